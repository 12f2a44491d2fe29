"""The TUI tests: `tui_helpers` is imported from this folder (pytest's default "prepend" import
mode). `ready`: a local hub for a module, with one dossier ready to sign. pytest-textual-snapshot writes its failure report to the current directory by default:
put it in the temporary directory instead, unless --snapshot-report is given."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_helpers import make_embedded, prepared_dossier, run

from orient.assistant.embedded import Embedded


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "snapshot_report", None) == "snapshot_report.html":
        config.option.snapshot_report = str(Path(tempfile.gettempdir()) / "orient-tui-snapshot-report.html")


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Embedded, Path, str]]:
    """A local hub with one dossier ready to sign (tests/scenarios/doctor_full.json), for the
    tests of one module: (the hub, its folder, the dossier's id)."""
    folder = tmp_path_factory.mktemp("ready")
    embedded = make_embedded(folder)
    dossier_id, report = run(prepared_dossier(embedded))
    assert report["status"] == "ready"
    yield embedded, folder, dossier_id
    embedded.close()
