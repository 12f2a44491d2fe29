"""Secrets kept outside the database (docs/security.md, "Keys").

A database's key folder holds:

- `audit.key`: the audit keys. An audit entry keeps a keyed digest (HMAC-SHA256) of the answer it
  records, never the answer nor a plain hash of it, so that whoever reads the log (the admin's
  export) cannot find the values by hashing a dictionary of dates, codes and numbers. Each entry
  names the key it was made with; rotating adds a key and keeps the old ones, so that old entries
  stay verifiable.
- `checkpoint.key`: the keys that sign the checkpoints of the audit chain (same format).
- `checkpoints.log`: the signed checkpoints, appended to and never rewritten (anchor.py).

Where the folder is: the path in the ORIENT_KEYS variable (a server: one folder per database,
copied to every machine of the hub); else beside a SQLite file (`orient.db` -> `orient.db.keys/`);
else, for a server database, under the user's data folder, one folder per database address. An
in-memory database gets keys in memory only. The folder is created 0700 at first start, its files
0600.

Files: one key a line, `ID SECRET CREATED` (hexadecimal secret, ISO time); the last one is in use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, Engine

KEYS_VARIABLE = "ORIENT_KEYS"
AUDIT_FILE = "audit.key"
CHECKPOINT_FILE = "checkpoint.key"
LOG_FILE = "checkpoints.log"
_HEADER = {
    AUDIT_FILE: "# Orient: audit keys (ID SECRET CREATED), the last one in use. Keep 0600; never delete a line.",
    CHECKPOINT_FILE: "# Orient: checkpoint signing keys (ID SECRET CREATED), the last one in use. Keep 0600.",
}
_LINE = re.compile(r"^([0-9a-f]{8}) ([0-9a-f]{64}) (\S+)$")


class KeysError(ValueError):
    """A key folder or file that cannot be used; the message is French."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes
    created: str

    def mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _new_key(now: datetime | None = None) -> Key:
    return Key(secrets.token_hex(4), secrets.token_bytes(32), (now or datetime.now(UTC)).isoformat())


def _text(keys: list[Key], name: str) -> str:
    lines = [_HEADER[name], *(f"{k.id} {k.secret.hex()} {k.created}" for k in keys)]
    return "\n".join(lines) + "\n"


def _parse(path: Path) -> list[Key]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeysError(f"Fichier de clés illisible « {path} » : {exc.strerror}.") from None
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found = _LINE.match(line)
        if found is None:
            raise KeysError(f"Fichier de clés « {path} », ligne {number} : format inattendu "
                            "(attendu : IDENTIFIANT SECRET DATE).")
        keys.append(Key(found[1], bytes.fromhex(found[2]), found[3]))
    if not keys:
        raise KeysError(f"Fichier de clés « {path} » sans clé.")
    return keys


def _written_aside(path: Path, text: str) -> Path:
    """`text` in a new file beside `path` (0600, synced to disk), to be linked or renamed."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return temp


def _write_new(path: Path, text: str) -> bool:
    """Create `path` with `text`, 0600, atomically and only if absent (another process starting
    on the same database may create it at the same moment): False when it already existed."""
    temp = _written_aside(path, text)
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    finally:
        temp.unlink()


def _replace(path: Path, text: str) -> None:
    os.replace(_written_aside(path, text), path)


class Keyring:
    """The keys of one database. `folder` None: keys in memory only (an in-memory database)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._audit: list[Key] | None = None
        self._checkpoint: list[Key] | None = None
        self._lock = threading.Lock()
        self.anchor: Any = None  # anchor.Anchor, set on first use

    # -- presence and creation --------------------------------------------------------------
    def exists(self) -> bool:
        return self.folder is None or (self.folder / AUDIT_FILE).exists()

    def ensure(self) -> bool:
        """Create the folder and the key files when absent (0700 / 0600); True if created now."""
        if self.folder is None:
            return False
        made = False
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            for name in (AUDIT_FILE, CHECKPOINT_FILE):
                if not (self.folder / name).exists():
                    made |= _write_new(self.folder / name, _text([_new_key()], name))
        except OSError as exc:
            raise KeysError(f"Impossible de créer les clés d'audit dans « {self.folder} » : "
                            f"{exc.strerror}.") from None
        if made:
            self._audit = self._checkpoint = None
        return made

    # -- reading ----------------------------------------------------------------------------
    def _load(self) -> None:
        with self._lock:
            if self._audit is not None:
                return
            if self.folder is None:
                self._audit, self._checkpoint = [_new_key()], [_new_key()]
                return
            if not (self.folder / AUDIT_FILE).exists():
                raise KeysError(f"Clés d'audit introuvables : « {self.folder / AUDIT_FILE} ».")
            audit = _parse(self.folder / AUDIT_FILE)
            checkpoint = _parse(self.folder / CHECKPOINT_FILE) if (self.folder / CHECKPOINT_FILE).exists() else []
            self._audit, self._checkpoint = audit, checkpoint

    def audit_keys(self) -> list[Key]:
        self._load()
        assert self._audit is not None
        return self._audit

    def checkpoint_keys(self) -> list[Key]:
        self._load()
        assert self._checkpoint is not None
        return self._checkpoint

    def audit_key(self, key_id: str | None = None) -> Key | None:
        """The key in use, or the one named."""
        keys = self.audit_keys()
        if key_id is None:
            return keys[-1]
        return next((k for k in keys if k.id == key_id), None)

    def checkpoint_key(self, key_id: str | None = None) -> Key | None:
        keys = self.checkpoint_keys()
        if key_id is None:
            return keys[-1] if keys else None
        return next((k for k in keys if k.id == key_id), None)

    def reload(self) -> None:
        with self._lock:
            self._audit = self._checkpoint = None

    # -- rotation ---------------------------------------------------------------------------
    def rotate(self, now: datetime | None = None) -> tuple[str, str]:
        """A new audit key and a new checkpoint key, in use from now on; the old ones stay so that
        what they made can still be verified. Returns the new ids."""
        if self.folder is None:
            raise KeysError("Base de données en mémoire : pas de clés à renouveler.")
        self._load()
        audit, checkpoint = _new_key(now), _new_key(now)
        _replace(self.folder / AUDIT_FILE, _text([*self.audit_keys(), audit], AUDIT_FILE))
        _replace(self.folder / CHECKPOINT_FILE, _text([*self.checkpoint_keys(), checkpoint], CHECKPOINT_FILE))
        self.reload()
        return audit.id, checkpoint.id


# -- where a database's keys are -------------------------------------------------------------------
def folder_for(url: URL) -> Path | None:
    """The key folder of the database at `url` (see the module's docstring)."""
    configured = os.environ.get(KEYS_VARIABLE)
    if configured:
        return Path(configured).expanduser().resolve()
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database.startswith("file:"):  # a read-only URI: file:/path?mode=ro
            database = database[5:].split("?", 1)[0]
        if not database or database == ":memory:":
            return None
        return Path(database + ".keys").expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    name = "-".join(str(p) for p in (url.get_backend_name(), url.host or "local", url.port or "",
                                     url.database or "") if p != "")
    return Path(base) / "orient" / "keys" / re.sub(r"[^A-Za-z0-9_.-]", "_", name)


_BY_FOLDER: dict[Path | None, Keyring] = {}
_BY_ENGINE: weakref.WeakKeyDictionary[Engine, Keyring] = weakref.WeakKeyDictionary()
_REGISTRY = threading.Lock()


def keyring_at(folder: Path | None) -> Keyring:
    """One Keyring object per folder in a process (an in-memory database: one per call)."""
    if folder is None:
        return Keyring(None)
    with _REGISTRY:
        found = _BY_FOLDER.get(folder)
        if found is None:
            found = _BY_FOLDER[folder] = Keyring(folder)
        return found


def attach(engine: Engine, url: URL) -> Keyring:
    """Bind `engine` to the keys of the database at `url` (open_engine does it)."""
    ring = keyring_at(folder_for(url))
    _BY_ENGINE[engine] = ring
    return ring


def of(engine: Any) -> Keyring:
    """The keyring of an engine (or a connection's engine)."""
    engine = getattr(engine, "engine", engine)
    found = _BY_ENGINE.get(engine)
    if found is None:
        found = attach(engine, engine.url)
    return found
