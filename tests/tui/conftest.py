"""The TUI tests: `tui_helpers` is imported from this folder (pytest's default "prepend" import
mode). pytest-textual-snapshot writes its failure report to the current directory by default:
put it in the temporary directory instead, unless --snapshot-report is given."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "snapshot_report", None) == "snapshot_report.html":
        config.option.snapshot_report = str(Path(tempfile.gettempdir()) / "orient-tui-snapshot-report.html")
