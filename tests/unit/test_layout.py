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



def _imports(path: Path) -> set[str]:
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_screen_module_imports_another() -> None:
    """Screens open each other by name through the app (OrientApp.open_screen); a screen module
    may import screens.base, tui.modals and tui.formatting only."""
    screens = ROOT / "assistant" / "tui" / "screens"
    names = {p.stem for p in screens.glob("*.py")} - {"__init__", "base"}
    assert {"who", "home", "chat", "proposals", "sign"} <= names
    offenders = {}
    for path in [*screens.glob("*.py"), *(ROOT / "assistant" / "tui").glob("*.py")]:
        own = path.stem
        bad = {m for m in _imports(path)
               for name in names - {own}
               if m == f"orient.assistant.tui.screens.{name}"
               or m.startswith(f"orient.assistant.tui.screens.{name}.")}
        if path.parent.name == "tui" and path.stem == "app":
            bad = set()  # the app resolves names to screens (importlib), never by import
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_tui_reaches_data_through_the_client_only() -> None:
    """DESIGN.md: the TUI never imports the store, the service or the hub's routes."""
    forbidden = ("orient.assistant.store", "orient.assistant.service", "orient.assistant.hub")
    offenders = {}
    for path in (ROOT / "assistant" / "tui").rglob("*.py"):
        bad = {m for m in _imports(path) if m.startswith(forbidden)}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_directory_parses_and_the_store_writes() -> None:
    """directory/ (communes, establishments, matching, the ROR parser) reads files and builds
    models; it never imports the store, which writes them (store/directory.py)."""
    offenders = {}
    for path in (ROOT / "assistant" / "directory").rglob("*.py"):
        bad = {m for m in _imports(path)
               if m.startswith(("orient.assistant.store", "sqlmodel", "sqlalchemy"))}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_hub_routes_share_helpers_through_access_only() -> None:
    """hub/app.py assembles the application from the routes; the routes import their shared helpers
    (caller, access checks, owners, responses) from hub/access.py, never from app.py nor from
    another route; access.py and views.py import no route and not app.py."""
    hub = ROOT / "assistant" / "hub"
    routes = {p.stem for p in hub.glob("routes_*.py")}
    assert {"routes_dossiers", "routes_admin", "routes_feed", "routes_referrals"} <= routes
    offenders = {}
    for path in hub.glob("*.py"):
        if path.stem in ("app", "server"):  # the assembly, and the process that serves it
            continue
        own = path.stem
        bad = {m for m in _imports(path)
               if m == "orient.assistant.hub.app" or m.startswith("orient.assistant.hub.app.")
               or any(m == f"orient.assistant.hub.{r}" or m.startswith(f"orient.assistant.hub.{r}.")
                      for r in routes - {own})}
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def _module_names() -> dict[str, Path]:
    """Every module of the three packages by its dotted name (a package by its __init__.py)."""
    modules = {}
    for folder, name in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([name, *parts])] = path
    return modules


def _orient_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of Orient that this file imports, at its top or inside a function alike (a lazy
    import is still a dependency); `from package import module` counts as the module."""
    return {m for m in _imports(path) if m in modules}


def test_no_import_cycles() -> None:
    """No module of Orient imports itself back through others, lazily or not: the import graph is
    a tree of rooms that a reader can follow from the bottom (models) up."""
    modules = _module_names()
    graph = {name: _orient_imports(path, modules) - {name} for name, path in modules.items()}
    cycles, done, path = [], set(), []

    def visit(node: str) -> None:
        if node in path:
            cycles.append(path[path.index(node):] + [node])
            return
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert cycles == []
