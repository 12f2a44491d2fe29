"""`orient kiosk`: the TUI in a browser (textual-serve) for demonstration stands.

Each visitor's browser session runs its own `orient kiosk-session` process, on a throw-away
database seeded with synthetic patients, never a real one; after a few minutes without a key
press the session starts again from the first screen on a fresh database."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

IDLE_SECONDS = 180.0
TITLE = "Orient — démonstration (hospitalisation non programmée)"


def serve(port: int) -> None:
    from textual_serve.server import Server

    command = f"{sys.executable} -m orient.assistant.cli kiosk-session"
    # the page is textual-serve's, adapted beside this file (app_index.html): a title, French
    # texts, and the terminal focused on load (keys work without a click)
    Server(command=command, host="127.0.0.1", port=port, title=TITLE,
           templates_path=Path(__file__).parent).serve()


def session() -> int:
    from orient.assistant.kiosk_world import KioskWorld
    from orient.assistant.tui.app import OrientApp

    app = OrientApp(world_factory=KioskWorld, idle_seconds=IDLE_SECONDS,
                    letter_folder=Path(tempfile.gettempdir()) / "orient-kiosk-letters")
    app.run()
    return 0
