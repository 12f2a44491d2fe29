"""The brief's layout (models/, dialogs/, assistant/ at the top level) is what gets installed: every
folder of the three packages is listed in pyproject.toml, so nothing is left out of a wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"models": "orient.models", "dialogs": "orient.dialogs", "assistant": "orient.assistant"}


def test_every_folder_of_the_three_packages_is_packaged() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"] == {name: folder for folder, name in PACKAGES.items()}
    listed = set(config["packages"])
    folders = set()
    for folder, name in PACKAGES.items():
        for path in [ROOT / folder, *(ROOT / folder).rglob("*")]:
            if path.is_dir() and path.name != "__pycache__" and any(
                f.is_file() and f.suffix != ".pyc" for f in path.iterdir()
            ):
                folders.add(".".join([name, *path.relative_to(ROOT / folder).parts]))
    assert folders - listed == set(), "folders missing from [tool.setuptools] packages"
    assert listed - folders == set(), "packages listed without a folder"

