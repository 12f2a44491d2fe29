"""The audit chain against tampering done directly in the SQLite file: `orient audit verify` exits 0
on an intact log and non-zero naming the first bad entry ("n° N") when an entry is changed,
removed (the last one too), reordered, or the head record is altered (spec/lifecycle.md,
"Guarantees"). Entries hold hashes of the answers, never the answers."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from orient.assistant import cli, replay
from orient.assistant.service import DossierService
from orient.assistant.store import keys
from orient.assistant.store.audit import entry_hash
from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import AuditEntryRow
from orient.models.dossier import value_hash

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parent / "scenarios"
COLUMNS = ["seq", "at", "actor", "role", "delegation_id", "dossier_id", "field_id", "event",
           "value_hash", "detail", "prev_hash", "hash", "key_id", "session_id"]


def verify_command(db: str) -> list[str]:
    exe = shutil.which("orient")
    if exe:
        return [exe, "audit", "verify", "--db", db]
    return [sys.executable, "-m", "orient.assistant.cli", "audit", "verify", "--db", db]


def run_verify(db: Path | str, *, in_process: bool = False) -> subprocess.CompletedProcess[str]:
    """`orient audit verify --db DB` as a command (as an operator runs it); `in_process` calls the
    same entry point, cli.main, without a new interpreter (for the many extra tampering cases)."""
    if in_process:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(["audit", "verify", "--db", str(db)])
            except SystemExit as exc:  # argparse errors
                code = int(exc.code or 0)
        return subprocess.CompletedProcess(["orient"], code, out.getvalue(), err.getvalue())
    env = dict(os.environ)
    return subprocess.run(verify_command(str(db)), capture_output=True, text=True, env=env,
                          timeout=60, check=False)


def names_entry(output: str, seq: int) -> bool:
    return re.search(rf"n° {seq}(?!\d)", output) is not None


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with three dossiers' worth of audit: two complete doctor conversations (one
    signed) and a secretary's partial one, written by the real service."""
    folder = tmp_path_factory.mktemp("audit")
    live = folder / "live.db"
    engine = open_engine(live)
    try:
        service = DossierService(engine)
        doctor = replay.load_scenario(SCENARIOS / "doctor_full.json")
        for scenario in (doctor, replay.load_scenario(SCENARIOS / "secretary_part.json"),
                         replay.Scenario(doctor.role, doctor.answers)):
            report = replay.run(scenario, service)
            assert report["audit_ok"]
            assert report["dossier"]["patient.birth_name"] in {"MARTIN", "DUPONT-LEGER"}
    finally:
        engine.dispose()
    # one self-contained file (no -wal beside it), copied with SQLite's own backup
    out = folder / "pristine.db"
    with sqlite3.connect(live) as src, sqlite3.connect(out) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    # the keys live beside the database (orient.db -> orient.db.keys/): they go with the copy
    shutil.copytree(keys_of(live), keys_of(out))
    return out


def keys_of(db: Path) -> Path:
    return db.with_name(db.name + ".keys")


@pytest.fixture
def db(pristine: Path, tmp_path: Path) -> Path:
    path = tmp_path / "orient.db"
    shutil.copyfile(pristine, path)
    shutil.copytree(keys_of(pristine), keys_of(path))
    return path


def entries(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_entry ORDER BY seq").fetchall()
    conn.close()
    return rows


def tamper(db: Path, *statements: tuple[str, tuple]) -> None:
    conn = sqlite3.connect(db)
    try:
        for sql, params in statements:
            cur = conn.execute(sql, params)
            assert cur.rowcount >= 1, f"tampering changed nothing: {sql} {params}"
        conn.commit()
    finally:
        conn.close()


def middle(db: Path) -> int:
    return len(entries(db)) // 2


def last(db: Path) -> int:
    return entries(db)[-1][0]


def assert_detected(db: Path, seq: int, *, in_process: bool = False) -> None:
    result = run_verify(db, in_process=in_process)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"tampering not detected: {output}"
    assert names_entry(output, seq), f"expected the first bad entry n° {seq} named in: {output}"


# -- intact ---------------------------------------------------------------------------------------
def test_intact_log_verifies(db: Path) -> None:
    rows = entries(db)
    assert len(rows) > 100
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    result = run_verify(db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(rows)} entrées" in result.stdout


# -- changed entries ------------------------------------------------------------------------------
@pytest.mark.parametrize("column, value, in_process", [
    ("detail", "effacé", False),
    ("event", "answer_accepted", False),
    ("field_id", "patient.birth_name", False),
    ("actor", "demo-secretary", True),
    ("value_hash", "0" * 64, True),
    ("at", "2020-01-01T00:00:00+00:00", True),
])
def test_changed_middle_entry_is_named(db: Path, column: str, value: str, in_process: bool) -> None:
    seq = middle(db)
    # pick an entry whose value differs, nearest to the middle
    row = next(r for r in entries(db)[seq - 1:] if r[COLUMNS.index(column)] != value)
    tamper(db, (f"UPDATE audit_entry SET {column} = ? WHERE seq = ?", (value, row[0])))
    assert_detected(db, row[0], in_process=in_process)


def test_changed_first_entry_is_named(db: Path) -> None:
    tamper(db, ("UPDATE audit_entry SET role = 'secretary' WHERE seq = 1", ()))
    assert_detected(db, 1, in_process=True)


def test_changed_and_rehashed_entry_is_detected(db: Path) -> None:
    """A forger who recomputes the changed entry's own hash still breaks the link to the next."""
    seq = middle(db)
    row = AuditEntryRow(**dict(zip(COLUMNS, entries(db)[seq - 1], strict=True)))
    row.detail = "falsifié"
    tamper(db, ("UPDATE audit_entry SET detail = ?, hash = ? WHERE seq = ?",
                (row.detail, entry_hash(row), seq)))
    result = run_verify(db, in_process=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert names_entry(output, seq + 1), output  # the first entry that no longer follows


def test_last_entry_changed_and_rehashed_is_caught_by_the_head(db: Path) -> None:
    seq = last(db)
    row = AuditEntryRow(**dict(zip(COLUMNS, entries(db)[-1], strict=True)))
    row.event = "signed"
    tamper(db, ("UPDATE audit_entry SET event = ?, hash = ? WHERE seq = ?",
                (row.event, entry_hash(row), seq)))
    assert_detected(db, seq, in_process=True)


# -- removed entries ------------------------------------------------------------------------------
def test_removed_middle_entry_is_named(db: Path) -> None:
    seq = middle(db)
    tamper(db, ("DELETE FROM audit_entry WHERE seq = ?", (seq,)))
    assert_detected(db, seq)


def test_removed_middle_entry_with_renumbering_is_named(db: Path) -> None:
    """Removing an entry and closing the gap in the numbering is still seen at that place."""
    seq = middle(db)
    tamper(db, ("DELETE FROM audit_entry WHERE seq = ?", (seq,)),
           ("UPDATE audit_entry SET seq = seq - 1 WHERE seq > ?", (seq,)),
           ("UPDATE audit_head SET seq = seq - 1 WHERE id = 1", ()))
    assert_detected(db, seq, in_process=True)


def test_removed_last_entry_is_named(db: Path) -> None:
    seq = last(db)
    tamper(db, ("DELETE FROM audit_entry WHERE seq = ?", (seq,)))
    assert_detected(db, seq)


def test_removed_last_entries_are_named(db: Path) -> None:
    seq = last(db)
    tamper(db, ("DELETE FROM audit_entry WHERE seq > ?", (seq - 5,)))
    assert_detected(db, seq - 4, in_process=True)


# -- reordered entries ----------------------------------------------------------------------------
def test_swapped_contents_are_named(db: Path) -> None:
    """Two entries exchange everything but their numbers."""
    seq = middle(db)
    rows = entries(db)
    a, b = rows[seq - 1], rows[seq + 2]
    assert a[1:] != b[1:]
    sets = ", ".join(f"{c} = ?" for c in COLUMNS[1:])
    tamper(db, (f"UPDATE audit_entry SET {sets} WHERE seq = ?", (*b[1:], a[0])),
           (f"UPDATE audit_entry SET {sets} WHERE seq = ?", (*a[1:], b[0])))
    assert_detected(db, a[0])


def test_swapped_numbers_are_named(db: Path) -> None:
    """Two entries exchange their numbers: read in order, they come in the wrong order."""
    seq = middle(db)
    other = seq + 3
    tamper(db, ("UPDATE audit_entry SET seq = -1 WHERE seq = ?", (seq,)),
           ("UPDATE audit_entry SET seq = ? WHERE seq = ?", (seq, other)),
           ("UPDATE audit_entry SET seq = ? WHERE seq = -1", (other,)))
    assert_detected(db, seq)


def test_swapped_adjacent_last_entries_are_named(db: Path) -> None:
    seq = last(db)
    tamper(db, ("UPDATE audit_entry SET seq = -1 WHERE seq = ?", (seq,)),
           ("UPDATE audit_entry SET seq = ? WHERE seq = ?", (seq, seq - 1)),
           ("UPDATE audit_entry SET seq = ? WHERE seq = -1", (seq - 1,)))
    assert_detected(db, seq - 1, in_process=True)


# -- the head record ------------------------------------------------------------------------------
def test_altered_head_hash_is_detected(db: Path) -> None:
    tamper(db, ("UPDATE audit_head SET hash = ? WHERE id = 1", ("f" * 64,)))
    assert_detected(db, last(db))


def test_head_ahead_of_the_log_names_the_first_missing_entry(db: Path) -> None:
    seq = last(db)
    tamper(db, ("UPDATE audit_head SET seq = seq + 3 WHERE id = 1", ()))
    assert_detected(db, seq + 1, in_process=True)


def test_head_behind_the_log_is_detected(db: Path) -> None:
    seq = last(db)
    tamper(db, ("UPDATE audit_head SET seq = seq - 1 WHERE id = 1", ()))
    assert_detected(db, seq, in_process=True)


def test_removed_head_is_detected(db: Path) -> None:
    tamper(db, ("DELETE FROM audit_head", ()))
    result = run_verify(db, in_process=True)
    assert result.returncode != 0, result.stdout + result.stderr


# -- the whole log removed -------------------------------------------------------------------------
def test_wiped_log_is_detected(db: Path) -> None:
    """Every entry and the head removed while dossiers remain: the whole trail is gone."""
    tamper(db, ("DELETE FROM audit_entry", ()), ("DELETE FROM audit_head", ()))
    result = run_verify(db, in_process=True)
    assert result.returncode != 0, result.stdout + result.stderr


def test_dropped_audit_tables_are_detected(db: Path) -> None:
    tamper(db, ("DELETE FROM audit_entry", ()))  # (a DROP TABLE reports no rowcount)
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE audit_entry")
    conn.execute("DROP TABLE audit_head")
    conn.commit()
    conn.close()
    result = run_verify(db, in_process=True)
    assert result.returncode != 0, result.stdout + result.stderr


def test_verify_on_a_foreign_sqlite_file_refuses_and_writes_nothing(tmp_path: Path) -> None:
    other = tmp_path / "autre.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (texte TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    result = run_verify(other, in_process=True)
    assert other.read_bytes() == before, "verify wrote into the file"
    assert result.returncode != 0, result.stdout + result.stderr


# -- what the entries hold ------------------------------------------------------------------------
def test_entries_hold_hashes_never_answers(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        table = [[str(v) for v in row] for row in conn.execute("SELECT * FROM audit_entry")]
        stored = conn.execute(
            "SELECT value_json FROM answer WHERE field_id = 'patient.birth_name'"
        ).fetchall()
    conn.close()
    assert '"MARTIN"' in {v for (v,) in stored}  # the dossier holds the value ...
    everything = "\n".join(" ".join(row) for row in table)
    # ... the audit table does not, anywhere (hashes are lower-case hexadecimal)
    for secret in ("MARTIN", "Martin", "martin", "Jeanne", "DUPONT", "Dupont", "Décompensation",
                   "Insuffisance", "Furosémide", "Toulouse", "Lefèvre", "LEGER", "claire.martin@"):
        assert secret not in everything, f"{secret!r} found in the audit table"
    # digits could occur by chance inside hashes, ids and times: look in the other columns
    words = "\n".join(" ".join(v for c, v in zip(COLUMNS, row, strict=True)
                               if c in {"actor", "role", "delegation_id", "field_id", "event",
                                        "detail"}) for row in table)
    for secret in ("1938", "12/03/1938", "31/02/1938", "05 61", "+33561000000", "0262",
                   "I50", "31555", "97411", "145"):
        assert secret not in words, f"{secret!r} found in the audit table"
    # what it holds instead: a keyed digest (HMAC) of each accepted answer and of each refused
    # input, never a plain hash that a dictionary would reverse (docs/security.md, finding 1)
    hashes = {row[COLUMNS.index("value_hash")] for row in table}
    for plain in ("MARTIN", "1938-03-12", "31/02/1938"):
        assert value_hash(plain) not in hashes
    key = keys.keyring_at(keys_of(db).resolve()).audit_key()
    assert key is not None
    assert key.mac('"MARTIN"') in hashes
    assert key.mac('"1938-03-12"') in hashes
    assert key.mac('"31/02/1938"') in hashes  # the refused birth date, as typed
    assert set(COLUMNS) == set(AuditEntryRow.model_fields)  # no column for a value


# -- unusable databases ---------------------------------------------------------------------------
def test_missing_database_exits_2_in_french(tmp_path: Path) -> None:
    missing = tmp_path / "absent.db"
    result = run_verify(missing)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "introuvable" in result.stderr and str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert not missing.exists()  # verifying must not create an empty database


def test_bad_url_scheme_exits_2_in_french() -> None:
    result = run_verify("nosuchdb://user@host/orient")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Base de données" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_database_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("ceci n'est pas une base SQLite\n" * 50, encoding="utf-8")
    result = run_verify(junk, in_process=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Base de données" in result.stderr
    assert "Traceback" not in result.stderr
