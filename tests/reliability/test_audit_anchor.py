"""The audit chain anchored outside the database (docs/security.md, finding 6).

Someone with write access to the SQLite file rewrites history consistently: an entry changed and
every later hash and the head recomputed, the last 100 entries cut and the head moved back, a
treatment of a sent dossier changed in the answers table (its dossier row's signature digest
updated to match, so that the API serves it as signed). The chain alone cannot see it; the
signed checkpoints (written by `orient audit checkpoint`, beside the keys) and the keyed digest of
the signed answers in the signature's entry do: the real `orient audit verify` exits 1.
What is not detected (the database and the key files changed together; changes after the last
checkpoint that keep the chain consistent) is pinned here as documented in docs/security.md."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_audit_tamper import COLUMNS, entries, keys_of, run_verify, tamper

from orient.assistant import replay
from orient.assistant.service import DossierService
from orient.assistant.store import anchor, keys
from orient.assistant.store.audit import entry_hash
from orient.assistant.store.db import DatabaseError, open_engine
from orient.assistant.store.tables import AuditEntryRow
from orient.models.dossier import canonical_json, sha256_hex

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "doctor_full.json"


def orient(*args: str) -> subprocess.CompletedProcess[str]:
    """The real `orient` command in a new interpreter (as an operator runs it)."""
    return subprocess.run([sys.executable, "-m", "orient.assistant.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def sent_scenario() -> replay.Scenario:
    data = json.loads(SCENARIO.read_text(encoding="utf-8"))
    data.update(sign=True, send=True, choose=[1])
    return replay.parse_scenario(data)


@pytest.fixture(scope="module")
def anchored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database with a sent dossier and two drafts, its head anchored by `orient audit
    checkpoint`: (file, the sent dossier's id)."""
    folder = tmp_path_factory.mktemp("anchor")
    live = folder / "live.db"
    engine = open_engine(live)
    try:
        service = DossierService(engine)
        sent_id, report = replay.run_dossier(sent_scenario(), service)
        assert report["status"] == "sent", report
        for _ in range(2):
            replay.run(replay.load_scenario(SCENARIO), service)
        anchor.anchor_of(keys.of(engine)).flush()  # this process's own pending checkpoint
    finally:
        engine.dispose()
    out = folder / "anchored.db"
    with sqlite3.connect(live) as src, sqlite3.connect(out) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    shutil.copytree(keys_of(live), keys_of(out))
    done = orient("audit", "checkpoint", "--db", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"entrée n° {len(entries(out))}" in done.stdout
    return out, sent_id


@pytest.fixture
def db(anchored: tuple[Path, str], tmp_path: Path) -> Path:
    path = tmp_path / "orient.db"
    shutil.copyfile(anchored[0], path)
    shutil.copytree(keys_of(anchored[0]), keys_of(path))
    return path


@pytest.fixture
def sent_id(anchored: tuple[Path, str]) -> str:
    return anchored[1]


def rechain(db: Path, start: int, change: dict[str, object]) -> None:
    """Change entry `start` and recompute its hash, every later hash and the head, as a forger
    with the database (and the code) would."""
    rows = [AuditEntryRow(**dict(zip(COLUMNS, r, strict=True))) for r in entries(db)]
    prev = rows[start - 2].hash if start > 1 else "0" * 64
    conn = sqlite3.connect(db)
    try:
        for row in rows[start - 1:]:
            if row.seq == start:
                for name, value in change.items():
                    setattr(row, name, value)
            row.prev_hash = prev
            row.hash = prev = entry_hash(row)
            conn.execute(f"UPDATE audit_entry SET {', '.join(f'{c} = ?' for c in COLUMNS[1:])} WHERE seq = ?",
                         (*[getattr(row, c) for c in COLUMNS[1:]], row.seq))
        conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (rows[-1].seq, prev))
        conn.commit()
    finally:
        conn.close()


def verify(db: Path) -> tuple[int, str]:
    result = run_verify(db)
    return result.returncode, result.stdout + result.stderr


def test_anchored_log_verifies_with_its_checkpoint_and_signatures(db: Path) -> None:
    code, output = verify(db)
    assert code == 0, output
    assert f"Dernier point de contrôle signé : entrée n° {len(entries(db))}" in output
    assert "conformes à leur signature : 3 dossier(s)" in output  # the sent one and two signed


def test_rewritten_and_rehashed_history_is_detected(db: Path) -> None:
    """An entry changed in the middle, every later hash and the head recomputed: the chain is
    consistent, but no longer holds the checkpointed head."""
    middle = len(entries(db)) // 2
    rechain(db, middle, {"detail": "falsifié", "actor": "demo-secretary"})
    with sqlite3.connect(db) as conn:  # the chain alone would pass: it is consistent again
        assert conn.execute("SELECT detail FROM audit_entry WHERE seq = ?", (middle,)).fetchone() == ("falsifié",)
    conn.close()
    code, output = verify(db)
    assert code == 1, output
    found = re.search(r"journal réécrit entre les entrées n° (\d+) et n° (\d+)", output)
    assert found and int(found[1]) <= middle <= int(found[2]), output


def test_cut_last_hundred_entries_and_moved_head_is_detected(db: Path) -> None:
    total = len(entries(db))
    assert total > 150
    keep = total - 100
    head = entries(db)[keep - 1][COLUMNS.index("hash")]
    tamper(db, ("DELETE FROM audit_entry WHERE seq > ?", (keep,)),
           ("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (keep, head)))
    code, output = verify(db)
    assert code == 1, output
    assert f"entrée n° {keep + 1} absente" in output and f"atteste {total} entrées" in output, output


def test_changed_treatment_of_a_sent_dossier_is_detected_by_id_never_by_value(db: Path, sent_id: str) -> None:
    """The answers table changed and the dossier row's signature digest updated to match: the API
    would serve it as signed; verify names the dossier and nothing of its content."""
    forged = "Warfarine 10 mg matin et soir"
    conn = sqlite3.connect(db)
    try:
        old = conn.execute("SELECT value_json FROM answer WHERE dossier_id = ? AND field_id = ?",
                           (sent_id, "medical.treatments")).fetchone()[0]
        conn.execute("UPDATE answer SET value_json = ? WHERE dossier_id = ? AND field_id = ?",
                     (json.dumps(forged, ensure_ascii=False), sent_id, "medical.treatments"))
        answers = {f: json.loads(v) for f, v in conn.execute(
            "SELECT field_id, value_json FROM answer WHERE dossier_id = ? AND NOT skipped", (sent_id,))}
        sig = json.loads(conn.execute("SELECT signature_json FROM dossier WHERE id = ?", (sent_id,)).fetchone()[0])
        sig["answers_hash"] = sha256_hex(canonical_json(answers))
        conn.execute("UPDATE dossier SET signature_json = ? WHERE id = ?", (json.dumps(sig), sent_id))
        conn.commit()
    finally:
        conn.close()
    code, output = verify(db)
    assert code == 1, output
    assert f"dossier {sent_id}" in output and "modifiées depuis la signature" in output, output
    for value in (forged, "Warfarine", json.loads(old)):
        assert str(value) not in output


def test_forged_checkpoint_line_is_detected(db: Path) -> None:
    log = keys_of(db) / keys.LOG_FILE
    line = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    line["seq"] -= 50  # a forger without the key moves the anchor back
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    code, output = verify(db)
    assert code == 1, output
    assert "signature invalide" in output, output


def test_rotated_keys_keep_old_entries_verifiable(db: Path) -> None:
    """`orient audit rotate-keys`: new entries use the new key, old ones verify with the old."""
    before = {r[COLUMNS.index("key_id")] for r in entries(db)}
    rotated = orient("audit", "rotate-keys", "--db", str(db))
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "Les anciennes restent" in rotated.stdout
    engine = open_engine(db)
    try:
        replay.run(replay.load_scenario(SCENARIO), DossierService(engine))
    finally:
        engine.dispose()
    after = {r[COLUMNS.index("key_id")] for r in entries(db)}
    assert len(before) == 1 and len(after) == 2, (before, after)
    lines = (keys_of(db) / keys.AUDIT_FILE).read_text(encoding="utf-8").splitlines()
    assert len([x for x in lines if not x.startswith("#")]) == 2
    assert (keys_of(db) / keys.AUDIT_FILE).stat().st_mode & 0o777 == 0o600
    checkpoint = orient("audit", "checkpoint", "--db", str(db))
    assert checkpoint.returncode == 0, checkpoint.stdout + checkpoint.stderr
    code, output = verify(db)
    assert code == 0, output


def test_lost_keys_are_reported_and_the_hub_refuses_to_start(db: Path) -> None:
    shutil.rmtree(keys_of(db))
    code, output = verify(db)
    assert code == 1 and "introuvable" in output, output
    with pytest.raises(DatabaseError, match="Clés d'audit introuvables"):
        open_engine(db)
    assert not keys_of(db).exists()  # no new keys that would hide the loss


def test_keys_are_created_owner_only_at_first_start(tmp_path: Path) -> None:
    path = tmp_path / "neuve.db"
    open_engine(path).dispose()
    folder = keys_of(path)
    assert folder.stat().st_mode & 0o777 == 0o700
    for name in (keys.AUDIT_FILE, keys.CHECKPOINT_FILE):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        dumped = "\n".join(conn.iterdump())
    conn.close()
    assert "audit_key" not in tables
    secret = (folder / keys.AUDIT_FILE).read_text(encoding="utf-8").splitlines()[-1].split()[1]
    assert secret not in dumped  # the database never holds the key


# -- what is not detected (docs/security.md, "What the audit does not prove") ---------------------
def test_not_detected_database_and_key_files_changed_together(db: Path) -> None:
    """Whoever holds the key folder as well re-signs a checkpoint of the rewritten chain."""
    middle = len(entries(db)) // 2
    rechain(db, middle, {"detail": "falsifié"})
    (keys_of(db) / keys.LOG_FILE).unlink()
    ring = keys.Keyring(keys_of(db).resolve())
    last = entries(db)[-1]
    anchor.write(ring, last[0], last[COLUMNS.index("hash")])
    code, output = verify(db)
    assert code == 0, output


def test_not_detected_consistent_change_after_the_last_checkpoint(db: Path) -> None:
    """Entries written after the last checkpoint can be rewritten consistently until the next one
    (at most CHECKPOINT_SECONDS of activity on a running hub)."""
    anchored_seq = len(entries(db))  # the fixture's checkpoint
    engine = open_engine(db)
    try:
        replay.run(replay.load_scenario(SCENARIO), DossierService(engine))
        anchor.anchor_of(keys.of(engine)).flush()
    finally:
        engine.dispose()
    log = keys_of(db) / keys.LOG_FILE  # as if no checkpoint had been written since the fixture's
    log.write_text("\n".join(x for x in log.read_text().splitlines() if json.loads(x)["seq"] <= anchored_seq) + "\n")
    assert len(entries(db)) > anchored_seq + 2
    rechain(db, anchored_seq + 2, {"detail": "falsifié"})
    code, output = verify(db)
    assert code == 0, output


def test_closing_the_embedded_hub_writes_the_checkpoint_still_due(tmp_path: Path) -> None:
    """The head moved twice within the checkpoint interval: the second checkpoint waits for its
    timer. Closing the hub writes it at once, while the key folder exists (a throw-away folder,
    as the replay, the kiosk and the benchmarks use, is removed right after: at the process's
    exit it was too late, and « audit checkpoint not written » was logged)."""
    from orient.assistant.embedded import Embedded

    embedded = Embedded(tmp_path / "orient.db", outbox=tmp_path / "outbox.json")
    service = DossierService(embedded.engine)
    replay.run(replay.load_scenario(SCENARIO), service)
    replay.run(replay.load_scenario(SCENARIO), service)
    ring = keys.of(embedded.engine)
    with sqlite3.connect(tmp_path / "orient.db") as conn:
        head = conn.execute("SELECT seq FROM audit_head").fetchone()[0]
    assert max(c.seq for c in anchor.read(ring)) < head  # the last one is due, not yet written
    embedded.close()
    assert max(c.seq for c in anchor.read(ring)) == head
