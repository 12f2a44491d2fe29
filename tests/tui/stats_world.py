"""A local hub whose referrals were answered at known times, for the statistics screen's tests.

The hub's clock is set for each step (the embedded hub takes a clock), so the delays, the months
and the overdue referral are the same on every run:

- 14/10/2026 09:00, dossier 1 to the doctor's first two proposals, A and B (A first by id:
  Clinique Rive Gauche; B: Hôpital La Grave, CHU de Toulouse): A reads it after 12 min and
  refuses it (no bed) after 45 min; B reads it after 30 min, accepts after 80.
- 02/11/2026 10:00, dossier 2 to A and B: A reads after 8 min, accepts after 130 min (B's is
  cancelled: admitted elsewhere).
- 02/11/2026 14:00, dossier 3 to A and B: A reads after 5 min, asks a question after 25; B never
  answers, and is overdue at 19:00 (4 h deadline), when the tests look.

Answer delays: A 45, 130, 25 min; B 80 min.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tui_helpers import make_embedded, prepared_dossier, run

from orient.assistant.embedded import Embedded

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 2, 19, 0, tzinfo=PARIS)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def stats_world(folder: Path) -> tuple[Embedded, Clock]:
    clock = Clock(datetime(2026, 10, 14, 8, 30, tzinfo=PARIS))
    embedded = make_embedded(folder, clock=clock)

    async def answer(steps: list[tuple[int, str, str]], sent: datetime, dossier: str) -> None:
        doctor = embedded.client("doctor")
        try:
            refs = {r["unit_id"]: r["id"] for r in await doctor.referrals() if r["dossier_id"] == dossier}
        finally:
            await doctor.close()
        units = sorted(refs)
        clients = {unit_id: embedded.unit_client(unit_id)[0] for unit_id in units}
        try:
            for minutes, which, action in steps:
                clock.now = sent + timedelta(minutes=minutes)
                unit_id = units[0 if which == "A" else 1]
                unit, ref = clients[unit_id], refs[unit_id]
                if action == "open":
                    await unit.open_referral(ref)
                elif action == "refuse":
                    await unit.refuse(ref, "no_bed")
                elif action == "accept":
                    await unit.accept(ref, clock.now + timedelta(hours=3), "Poste 4521")
                elif action == "ask":
                    await unit.request_info(ref, "Dernière créatininémie ?")
        finally:
            for client in clients.values():
                await client.close()

    def dossier(sent: datetime, steps: list[tuple[int, str, str]]) -> None:
        clock.now = sent
        dossier_id, _ = run(prepared_dossier(embedded, choose=[1, 2], sign=True, send=True))
        run(answer(steps, sent, dossier_id))

    dossier(datetime(2026, 10, 14, 9, 0, tzinfo=PARIS),
            [(12, "A", "open"), (30, "B", "open"), (45, "A", "refuse"), (80, "B", "accept")])
    dossier(datetime(2026, 11, 2, 10, 0, tzinfo=PARIS), [(8, "A", "open"), (130, "A", "accept")])
    dossier(datetime(2026, 11, 2, 14, 0, tzinfo=PARIS), [(5, "A", "open"), (25, "A", "ask")])
    clock.now = NOW
    return embedded, clock


def figures(embedded: Embedded, role: str = "doctor") -> Any:
    async def get() -> Any:
        client = embedded.client(role)
        try:
            return await client.stats()
        finally:
            await client.close()

    return run(get())
