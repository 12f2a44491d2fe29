"""The pure core loads no UI, network or database module (DESIGN.md, "Boundaries")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FORBIDDEN = ("textual", "httpx", "fastapi", "sqlalchemy", "sqlmodel", "sqlite3", "psycopg", "psycopg2")


def test_core_imports_no_ui_network_or_database_module() -> None:
    code = (
        "import sys, json\n"
        "import orient.models.fields, orient.models.readers, orient.models.identifiers\n"
        "import orient.models.lifecycle, orient.models.dossier, orient.models.users\n"
        "import orient.dialogs.hnp, orient.assistant.engine\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert "orient.assistant.engine" in loaded
    assert bad == []
