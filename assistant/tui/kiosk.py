"""`orient kiosk`: the TUI in a browser (textual-serve) for demonstration stands.

Each visitor's browser session runs its own `orient kiosk-session` process, on a throw-away
database seeded with synthetic patients, never a real one; after a few minutes without a key
press the session starts again from the first screen on a fresh database."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

IDLE_SECONDS = 180.0
TITLE = "Orient — démonstration (hospitalisation non programmée)"


def serve(port: int) -> None:
    from textual_serve.server import Server

    command = f"{sys.executable} -m orient.assistant.cli kiosk-session"
    # the page is textual-serve's, adapted beside this file (app_index.html): a title, French
    # texts, and the terminal focused on load (keys work without a click)
    Server(command=command, host="127.0.0.1", port=port, title=TITLE,
           templates_path=Path(__file__).parent).serve()


def session(world_factory: Callable[[], Any]) -> int:
    """One visitor's app; `world_factory` makes a throw-away world (kiosk_world.KioskWorld, passed
    in by the command: the TUI imports no hub)."""
    from orient.assistant.tui.app import OrientApp

    app = OrientApp(world_factory=world_factory, idle_seconds=IDLE_SECONDS,
                    letter_folder=Path(tempfile.gettempdir()) / "orient-kiosk-letters")
    app.run()
    return 0
