"""Checkpoints of the audit chain, kept outside the database (docs/security.md, "Anchoring").

Someone who can write to the database can rewrite the chain consistently (change an entry and
recompute every later hash and the head, or cut the last entries and move the head back). A
checkpoint records the head (sequence number and hash) signed with a key the database does not
hold, in an append-only file beside the keys: `orient audit verify` then requires the chain to
still hold that entry with that hash, and to be no shorter.

When: after a commit that moved the head, at most every CHECKPOINT_SECONDS per process, and at the
latest CHECKPOINT_SECONDS after it (a timer), and at the process's exit; `orient audit checkpoint`
writes one at once (e.g. from cron). Each checkpoint is also written to the log (ids and hashes,
no patient data), a second copy outside the server's files when logs are shipped elsewhere.

A line: {"seq": N, "hash": H, "at": ISO, "key": KEY_ID, "mac": HMAC-SHA256(key, [seq, hash, at, key])}.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from orient.assistant.store.keys import LOG_FILE, Keyring, KeysError

CHECKPOINT_SECONDS = 5.0
log = logging.getLogger("orient.audit")


def _signed_text(seq: int, head: str, at: str, key_id: str) -> str:
    return json.dumps([seq, head, at, key_id], separators=(",", ":"))


@dataclass(frozen=True)
class Checkpoint:
    line: int  # its line in the file (1-based)
    seq: int
    hash: str
    at: str
    key_id: str
    valid: bool  # signed by a known key with the right signature


def write(ring: Keyring, seq: int, head: str, now: datetime | None = None) -> Checkpoint:
    """Append a signed checkpoint of the head (`seq`, `head`) to the key folder's log."""
    if ring.folder is None:
        raise KeysError("Base de données en mémoire : pas de points de contrôle.")
    key = ring.checkpoint_key()
    if key is None:
        raise KeysError(f"Clé des points de contrôle introuvable dans « {ring.folder} ».")
    at = (now or datetime.now(UTC)).isoformat()
    record = {"seq": seq, "hash": head, "at": at, "key": key.id,
              "mac": key.mac(_signed_text(seq, head, at, key.id))}
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
    fd = os.open(ring.folder / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)  # one write of a short line: lines of several processes never mix
    finally:
        os.close(fd)
    log.info("audit checkpoint seq=%s hash=%s key=%s", seq, head, key.id)
    return Checkpoint(0, seq, head, at, key.id, True)


def read(ring: Keyring) -> list[Checkpoint]:
    """Every checkpoint of the log, each with whether its signature holds."""
    if ring.folder is None:
        return []
    path = ring.folder / LOG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            seq, head, at, key_id, mac = (int(item["seq"]), str(item["hash"]), str(item["at"]),
                                          str(item["key"]), str(item["mac"]))
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(number, 0, "", "", "", False))
            continue
        key = ring.checkpoint_key(key_id)
        valid = key is not None and key.mac(_signed_text(seq, head, at, key_id)) == mac
        found.append(Checkpoint(number, seq, head, at, key_id, valid))
    return found


class Anchor:
    """Writes a checkpoint of the newest committed head of this process, at most every
    CHECKPOINT_SECONDS, and at the latest CHECKPOINT_SECONDS after the head moved."""

    def __init__(self, ring: Keyring, seconds: float = CHECKPOINT_SECONDS) -> None:
        self.ring = ring
        self.seconds = seconds
        self._lock = threading.Lock()
        self._pending: tuple[int, str] | None = None
        self._written_seq = -1
        self._written_at = float("-inf")
        self._timer: threading.Timer | None = None
        atexit.register(self.flush)

    def note(self, seq: int, head: str) -> None:
        """A commit moved the head to (`seq`, `head`)."""
        with self._lock:
            if self._pending is None or seq > self._pending[0]:
                self._pending = (seq, head)
            due = time.monotonic() - self._written_at >= self.seconds
            if not due:
                if self._timer is None:
                    self._timer = threading.Timer(self.seconds, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if pending is None or pending[0] <= self._written_seq:
                return
            try:
                write(self.ring, *pending)
            except (OSError, KeysError) as exc:  # never fail a request for its anchor
                log.warning("audit checkpoint not written (%s): %s", self.ring.folder, exc)
                return
            self._written_seq, self._written_at = pending[0], time.monotonic()


def anchor_of(ring: Keyring) -> Anchor | None:
    if ring.folder is None:
        return None
    if ring.anchor is None:
        ring.anchor = Anchor(ring)
    anchor: Anchor = ring.anchor
    return anchor
