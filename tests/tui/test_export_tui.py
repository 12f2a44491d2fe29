"""The receiving unit exports a referral for the hospital's software from its view, by keys: the
inbox (i), the referral (Enter), F9. The FHIR R4 Bundle lands in the letters' folder, readable by
its owner only, and the notification names the file."""

from __future__ import annotations

import stat
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle
from textual.widgets import DataTable, Markdown
from tui_helpers import SIZE, make_app, make_embedded, prepared_dossier, run, settle, wait_until

from orient.assistant.embedded import Embedded
from orient.assistant.tui.screens.referral import ReferralScreen

CHU_TOULOUSE = ("310783063", "310783048", "310783055")


def test_the_unit_exports_the_referral_with_f9(tmp_path: Path) -> None:
    setup = make_embedded(tmp_path)
    _, report = run(prepared_dossier(setup, choose=[1], sign=True, send=True))
    referral = report["referrals"][0]
    assert report["status"] == "sent" and referral["unit_id"].split("-")[0] in CHU_TOULOUSE
    unit_side = Embedded(tmp_path / "orient.db", outbox=tmp_path / "outbox-unit.json")
    target = tmp_path / "letters" / f"demande-{referral['id'][:8]}.fhir.json"

    async def scenario() -> None:
        app = make_app(unit_side, tmp_path)
        async with app.run_test(size=SIZE) as unit:
            await settle(unit)
            await unit.press("3")  # the receiving unit's demo account
            await settle(unit)
            await unit.press("i")
            await settle(unit)
            rows = app.screen.query_one("#inbox", DataTable)
            await wait_until(unit, lambda: rows.row_count == 1, what="the unit's inbox")
            await unit.press("enter")
            await settle(unit)
            screen = app.screen
            assert isinstance(screen, ReferralScreen)
            letter = screen.query_one("#dossier", Markdown)
            await wait_until(unit, lambda: "Lettre de liaison" in letter.source, what="the letter")
            assert not target.exists()
            await unit.press("f9")
            await settle(unit)
            await wait_until(unit, target.exists, what="the exported file")
            shown = [str(n.message) for n in app._notifications]
            assert any("Demande exportée" in m and str(target) in m for m in shown), shown

    try:
        run(scenario())
    finally:
        setup.close()
        unit_side.close()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    bundle = Bundle.model_validate_json(target.read_bytes())
    request = bundle.entry[0].resource
    assert request.identifier[0].value == f"urn:uuid:{referral['id']}"
    kinds = {e.resource.get_resource_type() for e in bundle.entry}
    assert {"Patient", "Practitioner", "Condition", "Observation", "HealthcareService"} <= kinds
