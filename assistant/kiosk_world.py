"""The kiosk's world: a throw-away database seeded with synthetic patients, one per visitor's
session, never a real one. Built on the hub's side (the TUI only receives its client)."""

from __future__ import annotations

import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from orient.assistant.embedded import Embedded


class KioskWorld:
    """A throw-away database with synthetic patients, removed when replaced."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="orient-kiosk-"))
        self.embedded = Embedded(self.folder / "kiosk.db", outbox=self.folder / "outbox.json", notify=False)
        seed(self.embedded)

    def close(self) -> None:
        self.embedded.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def seed(embedded: Embedded) -> None:
    """Synthetic patients (fictional names) so that the dashboard and the inbox show something."""
    from orient.assistant import replay
    from orient.assistant.service import DossierService

    data = json.loads(resources.files("orient.assistant").joinpath("kiosk_patients.json")
                      .read_text(encoding="utf-8"))
    service = DossierService(embedded.engine)
    for scenario in data:
        replay.run(replay.parse_scenario(scenario), service)
