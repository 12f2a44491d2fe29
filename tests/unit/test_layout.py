"""The brief's layout (models/, dialogs/, assistant/ at the top level) is what gets installed: every
folder of the three packages is listed in pyproject.toml, so nothing is left out of a wheel. And the
layout's rules: who may import whom is the table of rooms in README.md ("Who may import whom"),
read and enforced here; no import cycle among the modules; inside the hub and the TUI, no route
and no screen imports another."""

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


def _import_time_imports(path: Path) -> set[str]:
    """What the file imports when it is imported: its module-level imports, not those inside a
    function nor under `if TYPE_CHECKING:`."""
    import ast

    found: set[str] = set()
    stack: list[ast.AST] = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return found


def test_no_import_cycles() -> None:
    """No module of Orient imports itself back through others when it is imported: the modules
    load from the bottom (models) up. (Between rooms, lazy imports cannot point back either: the
    README's table below.)"""
    modules = _module_names()
    graph = {name: {m for m in _import_time_imports(path) if m in modules} - {name}
             for name, path in modules.items()}
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


# -- the README's table of rooms ("Who may import whom") is the rule; this test reads it ----------
README = ROOT / "README.md"
EVERY_ROOM = "every room"


def _readme_rooms() -> dict[str, tuple[list[str], set[str] | None, set[str]]]:
    """room -> (what it holds, the rooms it may import (None: every room), libraries it never
    imports), from the table under "### Who may import whom" in README.md."""
    import re

    text = README.read_text(encoding="utf-8")
    section = text.split("### Who may import whom", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # header, ---
    assert rows, "no table under 'Who may import whom' in README.md"
    rooms = {}
    for row in rows:
        room, holds, may, never = (cell.strip() for cell in row.strip("|").split("|"))
        ticked = [re.findall(r"`([^`]+)`", cell) for cell in (room, holds, may, never)]
        assert len(ticked[0]) == 1, row
        rooms[ticked[0][0]] = (ticked[1], None if may == EVERY_ROOM else set(ticked[2]),
                               set(ticked[3]))
    return rooms


def _runtime_imports(path: Path) -> set[str]:
    """What the file imports when it runs, at its top or in a function; not what it imports under
    `if TYPE_CHECKING:` (types only)."""
    import ast

    found: set[str] = set()
    stack: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _room_of(path: Path, rooms: dict[str, tuple[list[str], set[str] | None, set[str]]]) -> str | None:
    """The room whose row holds this file: the file itself, else its longest folder."""
    relative = path.relative_to(ROOT).as_posix()
    best, length = None, -1
    for room, (holds, _, _) in rooms.items():
        for held in holds:
            if (relative == held or (held.endswith("/") and relative.startswith(held))) and len(held) > length:
                best, length = room, len(held)
    return best


def test_the_readme_table_of_rooms_is_acyclic_and_names_known_rooms() -> None:
    rooms = _readme_rooms()
    assert {"models", "dialogs", "engine", "store", "hub", "tui"} <= set(rooms)
    for room, (_, may, _) in rooms.items():
        assert may is None or may <= set(rooms) - {room}, f"{room}: unknown rooms {may - set(rooms)}"
    below: dict[str, set[str]] = {}  # every room a room reaches through the table

    def reach(room: str, seen: tuple[str, ...] = ()) -> set[str]:
        assert room not in seen, f"the table has a cycle: {' -> '.join((*seen, room))}"
        if room not in below:
            may = rooms[room][1]
            direct = set(rooms) - {room} if may is None else may
            below[room] = direct.union(*(reach(r, (*seen, room)) for r in direct if rooms[r][1] is not None))
        return below[room]

    for room in rooms:
        reach(room)


def test_every_import_follows_the_readme_table_of_rooms() -> None:
    """README.md, "Who may import whom": each module imports, of Orient, its own room and the rooms
    its row names, and none of the libraries its row names; every module is in a row."""
    rooms = _readme_rooms()
    modules = _module_names()
    room_of = {name: _room_of(path, rooms) for name, path in modules.items()}
    homeless = sorted(name for name, room in room_of.items()
                      if room is None and modules[name].read_text(encoding="utf-8").strip())
    assert homeless == [], "modules in no row of the README's table"
    offenders = {}
    for name, path in modules.items():
        room = room_of[name]
        if room is None:
            continue
        _, may, never = rooms[room]
        imported = _runtime_imports(path)
        bad = set()
        for target in imported:
            if target.split(".")[0] in never:
                bad.add(target)
            if target not in modules or (f"{target}.".startswith(f"{name}.")):
                continue
            if any(other.startswith(f"{target}.") and other in imported for other in modules):
                continue  # `from package import module`: the module counts, not the package
            there = room_of[target]
            if there is not None and there != room and may is not None and there not in may:
                bad.add(f"{target} ({there})")
        if bad:
            offenders[f"{path.relative_to(ROOT)} ({room})"] = sorted(bad)
    assert offenders == {}
