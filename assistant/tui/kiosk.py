"""`orient kiosk`: the TUI in a browser (textual-serve) for demonstration stands.

Each visitor's browser session runs its own `orient kiosk-session` process, on a throw-away
database seeded with synthetic patients, never a real one; after a few minutes without a key
press the session starts again from the first screen on a fresh database."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from orient.assistant.embedded import Embedded

IDLE_SECONDS = 180.0
TITLE = "Orient — démonstration (hospitalisation non programmée)"


class KioskWorld:
    """A throw-away database with synthetic patients, removed when replaced."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="orient-kiosk-"))
        self.embedded = Embedded(self.folder / "kiosk.db", outbox=self.folder / "outbox.json")
        seed(self.embedded)

    def close(self) -> None:
        self.embedded.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def seed(embedded: Embedded) -> None:
    """Synthetic patients (fictional names) so that the dashboard and the inbox show something."""
    data = json.loads(resources.files("orient.assistant.tui").joinpath("kiosk_patients.json")
                      .read_text(encoding="utf-8"))
    embedded.replay_scenarios(data)


def serve(port: int) -> None:
    from textual_serve.server import Server

    command = f"{sys.executable} -m orient.assistant.cli kiosk-session"
    # the page is textual-serve's, adapted beside this file (app_index.html): a title, French
    # texts, and the terminal focused on load (keys work without a click)
    Server(command=command, host="127.0.0.1", port=port, title=TITLE,
           templates_path=Path(__file__).parent).serve()


def session() -> int:
    from orient.assistant.tui.app import OrientApp

    app = OrientApp(world_factory=KioskWorld, idle_seconds=IDLE_SECONDS,
                    letter_folder=Path(tempfile.gettempdir()) / "orient-kiosk-letters")
    app.run()
    return 0
