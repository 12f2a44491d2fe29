"""The receiving unit accepts a referral in its TUI (key 3, i, Enter, F2, contact, Enter) while
the doctor's dashboard, another app on the same database, shows it "acceptée" within seconds
(live feed, long polling with a short wait)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input
from tui_helpers import (
    CHU_TOULOUSE,
    SIZE,
    error_text,
    make_app,
    make_embedded,
    prepared_dossier,
    run,
    settle,
    type_and_enter,
    wait_until,
)

from orient.assistant.embedded import Embedded
from orient.assistant.tui.modals import AcceptModal
from orient.assistant.tui.screens.dashboard import DashboardScreen
from orient.assistant.tui.screens.inbox import InboxScreen
from orient.assistant.tui.screens.referral import ReferralScreen


def column(table: DataTable, name: str, rows: str = "all") -> list[str]:
    """A column's cells; on the dashboard, `rows` "dossiers" or "referrals" keeps those rows."""
    index = [str(c.label) for c in table.ordered_columns].index(name)
    keys = [str(row.key.value) for row in table.ordered_rows]
    # a referral's site is indented under its dossier (a Padding around its Text)
    return [str(getattr(cell, "renderable", cell)) for i in range(table.row_count)
            if rows == "all" or keys[i].startswith("dossier:") == (rows == "dossiers")
            for cell in (table.get_row_at(i)[index],)]


def test_unit_accepts_and_the_doctor_dashboard_follows(tmp_path: Path) -> None:
    setup = make_embedded(tmp_path)
    _, report = run(prepared_dossier(setup, choose=[1, 2], sign=True, send=True))
    assert report["status"] == "sent"
    referrals = report["referrals"]
    assert len(referrals) == 2
    for_the_unit = [r for r in referrals if r["unit_id"].split("-")[0] in CHU_TOULOUSE]
    assert len(for_the_unit) == 1, referrals  # the first proposal is a CHU site, the second is not
    # two app instances, each with its own hub, on the same database file
    doctor_side = setup
    unit_side = Embedded(tmp_path / "orient.db", outbox=tmp_path / "outbox-unit.json")

    async def scenario() -> None:
        doctor_app = make_app(doctor_side, tmp_path, feed_wait=0.5)
        unit_app = make_app(unit_side, tmp_path, feed_wait=0.5)
        async with doctor_app.run_test(size=SIZE) as doctor, unit_app.run_test(size=SIZE) as unit:
            # the doctor's dashboard: the two referrals, sent
            await settle(doctor)
            await doctor.press("1")
            await settle(doctor)
            await doctor.press("d")
            await settle(doctor)
            dashboard = doctor_app.screen
            assert isinstance(dashboard, DashboardScreen)
            table = dashboard.query_one("#referrals", DataTable)
            await wait_until(doctor, lambda: table.row_count == 3,
                             what="the doctor's dossier and its two referrals")
            # the dossier first (its patient, its status), then its referrals under it
            assert column(table, "Statut") == ["envoyé", "envoyée", "envoyée"]
            assert column(table, "Patient / établissement", "dossiers") == ["MARTIN Jeanne Marie"]
            assert column(table, "Unité", "dossiers") == ["12/03/1938"]  # its birth date
            assert all(cell.startswith("↳ ") for cell in
                       column(table, "Patient / établissement", "referrals"))

            # the unit: its inbox holds the one referral for a CHU site
            await settle(unit)
            await unit.press("3")
            await settle(unit)
            assert unit_app.role == "receiver"
            await unit.press("i")
            await settle(unit)
            inbox = unit_app.screen
            assert isinstance(inbox, InboxScreen)
            rows = inbox.query_one("#inbox", DataTable)
            await wait_until(unit, lambda: rows.row_count == 1, what="the unit's inbox")
            assert column(rows, "Statut") == ["envoyée"]
            assert column(rows, "Délai") == ["sous 24 h"]
            assert rows.has_focus
            await unit.press("enter")
            await settle(unit)
            referral = unit_app.screen
            assert isinstance(referral, ReferralScreen)
            assert referral.referral_id == for_the_unit[0]["id"]
            status_line = referral.query_one("#referral-status")
            await wait_until(unit, lambda: str(status_line.render()).startswith("lue"),
                             what="the referral marked read")

            # opening it marked it read: the doctor sees "lue" without pressing anything
            await wait_until(doctor, lambda: "lue" in column(table, "Statut", "referrals"), timeout=3.0,
                             what="'lue' on the doctor's dashboard")

            # F2: accept; each field under its label, the date first (prefilled, its format
            # in its label), Enter goes on to the contact, which is required
            await unit.press("f2")
            await settle(unit)
            modal = unit_app.screen
            assert isinstance(modal, AcceptModal)
            when = modal.query_one("#when", Input)
            assert when.value  # "jj/mm/aaaa hh:mm", three hours from now
            assert when.has_focus
            labels = [str(label.render()) for label in modal.query(".field-label")]
            assert labels == ["Date et heure d'admission (jj/mm/aaaa hh:mm)",
                              "Contact pour préparer l'arrivée (nom, téléphone)"]
            await unit.press("enter")
            await settle(unit)
            assert modal.query_one("#contact", Input).has_focus and error_text(modal) == ""
            await unit.press("enter")
            await settle(unit)
            assert unit_app.screen is modal
            assert "« Contact » : une réponse est requise." in error_text(modal)
            await type_and_enter(unit, "Dr Durand 05 61 77 00 00")
            await wait_until(unit, lambda: isinstance(unit_app.screen, InboxScreen),
                             what="back to the inbox")
            await wait_until(unit, lambda: column(rows, "Statut") == ["acceptée"], timeout=3.0,
                             what="'acceptée' in the inbox")

            # the doctor's dashboard follows, live
            await wait_until(doctor, lambda: "acceptée" in column(table, "Statut", "referrals"),
                             timeout=3.0, what="'acceptée' on the doctor's dashboard")
            statuses = column(table, "Statut", "referrals")
            accepted = column(table, "Réponse", "referrals")[statuses.index("acceptée")]
            assert "admission le" in accepted and "Dr Durand 05 61 77 00 00" in accepted
            # the other referral is cancelled by the hub: the patient is admitted elsewhere
            assert sorted(statuses) == ["acceptée", "annulée"]
            cancelled = column(table, "Réponse", "referrals")[statuses.index("annulée")]
            assert cancelled == "Admis ailleurs"

    try:
        run(scenario())
    finally:
        doctor_side.close()
        unit_side.close()


def test_every_dossier_status_has_a_label_that_fits_the_dashboard_column() -> None:
    from orient.assistant.tui.screens.dashboard import DOSSIER_STATUS_SHORT
    from orient.models.lifecycle import DossierStatus

    assert set(DOSSIER_STATUS_SHORT) == set(DossierStatus)
    assert all(0 < len(label) <= 12 for label in DOSSIER_STATUS_SHORT.values())
