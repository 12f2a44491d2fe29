"""Storage guarantees: an accepted answer is committed before the next question is shown, a refused
one changes nothing but is audited, a stale write is refused without losing anything, and the
SQLite file is readable by its owner only."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orient.assistant.replay import actor_for_role
from orient.assistant.service import DossierService
from orient.assistant.store import dossiers, keys
from orient.assistant.store.audit import keyed_digest
from orient.assistant.store.db import open_engine
from orient.models.dossier import value_hash
from orient.models.users import Role

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "doctor_full.json"


def inputs() -> dict[str, deque[str]]:
    return {f: deque(v) for f, v in json.loads(SCENARIO.read_text("utf-8"))["answers"].items()}


class Raw:
    """A separate plain sqlite3 connection: sees only what was committed."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)

    def version(self, dossier_id: str) -> int:
        return self.conn.execute("SELECT version FROM dossier WHERE id = ?", (dossier_id,)).fetchone()[0]

    def answers(self, dossier_id: str) -> dict[str, tuple[Any, bool]]:
        rows = self.conn.execute(
            "SELECT field_id, value_json, skipped FROM answer WHERE dossier_id = ?", (dossier_id,)
        ).fetchall()
        return {f: (None if v is None else json.loads(v), bool(s)) for f, v, s in rows}

    def audit(self, after: int = 0) -> list[tuple[int, str, str | None, str | None]]:
        return self.conn.execute(
            "SELECT seq, event, field_id, value_hash FROM audit_entry WHERE seq > ? ORDER BY seq",
            (after,),
        ).fetchall()

    def last_seq(self) -> int:
        return self.conn.execute("SELECT coalesce(max(seq), 0) FROM audit_entry").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "orient.db"


@pytest.fixture
def service(path: Path):  # type: ignore[no-untyped-def]
    engine = open_engine(path)
    yield DossierService(engine)
    engine.dispose()


@pytest.fixture
def raw(path: Path, service: DossierService):  # type: ignore[no-untyped-def]
    conn = Raw(path)
    yield conn
    conn.close()


# -- accepted answers are committed before the next question -------------------------------------
def test_each_accepted_answer_is_committed_before_the_next_question(
    service: DossierService, raw: Raw
) -> None:
    actor = actor_for_role(service, Role.DOCTOR)
    step = service.create(actor)
    dossier_id = step.dossier_id
    assert raw.version(dossier_id) == step.version  # the new dossier itself is committed
    queues = inputs()
    question = step.question
    accepted = 0
    while question is not None:
        queue = queues.get(question.id)
        seq = raw.last_seq()
        step = service.answer(actor, dossier_id, queue.popleft() if queue else "")
        if not step.ok:
            continue
        accepted += 1
        # read back through another connection, right when the next question is handed over
        stored = raw.answers(dossier_id)
        state = service.state(actor, dossier_id)
        assert question.id in stored, f"answer to {question.id} not committed"
        if question.id in state.skipped:
            assert stored[question.id] == (None, True)
        else:
            assert stored[question.id] == (state.answers[question.id], False)
        assert raw.version(dossier_id) == step.version
        events = [(e, f) for _, e, f, _ in raw.audit(after=seq)]
        assert ("answer_accepted", question.id) in events or ("answer_skipped", question.id) in events
        if step.question is not None:  # the question shown is already in the committed audit
            assert ("question_asked", step.question.id) in events
        question = step.question
    assert accepted > 30
    assert service.verify_audit().ok


# -- refused answers change nothing but are audited ----------------------------------------------
@pytest.mark.parametrize("typed", ["31/02/1938", "abc", ""])
def test_refused_answer_changes_nothing_and_is_audited(
    service: DossierService, raw: Raw, typed: str
) -> None:
    actor = actor_for_role(service, Role.DOCTOR)
    step = service.create(actor)
    dossier_id = step.dossier_id
    queues = inputs()
    while step.question is not None and step.question.id != "patient.birth_date":
        queue = queues.get(step.question.id)
        step = service.answer(actor, dossier_id, queue.popleft() if queue else "")
        assert step.ok
    assert step.question is not None  # the birth date is required: "" is refused too
    version, answers, seq = raw.version(dossier_id), raw.answers(dossier_id), raw.last_seq()
    state_before = service.state(actor, dossier_id)

    refused = service.answer(actor, dossier_id, typed)

    assert not refused.ok and refused.message
    assert refused.version == version
    assert refused.question is not None and refused.question.id == "patient.birth_date"
    assert raw.version(dossier_id) == version
    assert raw.answers(dossier_id) == answers
    state_after = service.state(actor, dossier_id)
    assert (state_after.answers, state_after.skipped, state_after.version) == (
        state_before.answers, state_before.skipped, state_before.version)
    new = raw.audit(after=seq)
    assert [(e, f) for _, e, f, _ in new if e == "answer_refused"] == [
        ("answer_refused", "patient.birth_date")]
    assert not any(e in {"answer_accepted", "answer_skipped", "answer_changed"} for _, e, _, _ in new)
    refused_hash = next(h for _, e, _, h in new if e == "answer_refused")
    # the typed input, digested with the audit key (never a plain hash: docs/security.md)
    assert refused_hash == keyed_digest(keys.of(service.db).audit_key(), typed) != value_hash(typed)
    assert service.verify_audit().ok
    # and the dossier goes on normally afterwards
    assert service.answer(actor, dossier_id, "12/03/1938").ok
    assert raw.version(dossier_id) == version + 1


# -- concurrent writers ---------------------------------------------------------------------------
def test_stale_base_version_is_refused_and_nothing_is_lost(path: Path, service: DossierService,
                                                          raw: Raw) -> None:
    other_engine = open_engine(path)  # a second service on the same file (another process or hub)
    try:
        other = DossierService(other_engine)
        doctor = actor_for_role(service, Role.DOCTOR)
        secretary = actor_for_role(other, Role.SECRETARY)
        created = service.create(doctor)
        dossier_id = created.dossier_id
        assert service.answer(doctor, dossier_id, "aucun").ok  # red flags: the doctor's question
        seen_by_doctor = service.open(doctor, dossier_id)  # the doctor looks at the callback phone
        seen_by_secretary = other.open(secretary, dossier_id)
        assert seen_by_doctor.version == seen_by_secretary.version
        assert seen_by_secretary.question is not None
        field = seen_by_secretary.question.id
        assert seen_by_doctor.question is not None and seen_by_doctor.question.id == field

        won = other.answer(secretary, dossier_id, "05 61 00 00 00", base_version=seen_by_secretary.version)
        assert won.ok and won.version == seen_by_secretary.version + 1
        audit_before = raw.last_seq()

        with pytest.raises(dossiers.StaleWrite) as refused:
            service.answer(doctor, dossier_id, "06 12 34 56 78", base_version=seen_by_doctor.version)
        assert "modifié entre-temps" in str(refused.value)

        # nothing lost, nothing overwritten, nothing half-written
        assert raw.version(dossier_id) == won.version
        assert raw.answers(dossier_id)[field] == ("+33561000000", False)
        assert raw.last_seq() == audit_before
        fresh = service.open(doctor, dossier_id)  # the fresh state is shown
        assert fresh.version == won.version
        assert service.state(doctor, dossier_id).answers[field] == "+33561000000"
        # with the fresh version, the doctor's change goes through
        assert service.edit(doctor, dossier_id, field).ok
        changed = service.answer(doctor, dossier_id, "06 12 34 56 78",
                                 base_version=service.state(doctor, dossier_id).version)
        assert changed.ok
        assert raw.answers(dossier_id)[field] == ("+33612345678", False)
        assert ("answer_changed", field) in [(e, f) for _, e, f, _ in raw.audit(after=audit_before)]
        assert service.verify_audit().ok and other.verify_audit().ok
    finally:
        other_engine.dispose()


def test_save_refuses_a_state_read_before_another_write(path: Path, service: DossierService,
                                                        raw: Raw) -> None:
    """The store's own check, for a write prepared from a state read before someone else wrote."""
    other_engine = open_engine(path)
    try:
        other = DossierService(other_engine)
        actor = actor_for_role(service, Role.DOCTOR)
        dossier_id = service.create(actor).dossier_id
        with Session(service.db) as session:
            old = dossiers.load(session, dossier_id)
        assert other.answer(actor, dossier_id, "aucun").ok
        version, answers = raw.version(dossier_id), raw.answers(dossier_id)
        old.answers["request.red_flags"] = ["chest_pain"]
        with Session(service.db) as session, pytest.raises(dossiers.StaleWrite):
            dossiers.save(session, old, {"request.red_flags"}, actor_id=actor.user_id,
                          base_version=old.version)
            session.commit()
        assert (raw.version(dossier_id), raw.answers(dossier_id)) == (version, answers)
    finally:
        other_engine.dispose()


def test_two_writers_at_once_exactly_one_wins(path: Path, service: DossierService, raw: Raw) -> None:
    engines = [open_engine(path) for _ in range(2)]
    try:
        services = [DossierService(e) for e in engines]
        actor = actor_for_role(service, Role.DOCTOR)
        created = service.create(actor)
        dossier_id, base = created.dossier_id, created.version
        barrier = threading.Barrier(2)
        results: list[Any] = [None, None]

        def write(i: int, typed: str) -> None:
            barrier.wait()
            try:
                results[i] = services[i].answer(actor, dossier_id, typed, base_version=base)
            except Exception as exc:  # noqa: BLE001 - collected and checked below
                results[i] = exc

        threads = [threading.Thread(target=write, args=(i, t))
                   for i, t in enumerate(["aucun", "douleur thoracique"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1 and winners[0].ok, results
        assert len(losers) == 1 and isinstance(losers[0], dossiers.StaleWrite), results
        assert raw.version(dossier_id) == base + 1
        stored = raw.answers(dossier_id)["request.red_flags"][0]
        assert stored == service.state(actor, dossier_id).answers["request.red_flags"]
        assert service.verify_audit().ok
    finally:
        for e in engines:
            e.dispose()


# -- file permissions -----------------------------------------------------------------------------
@pytest.mark.parametrize("as_url", [False, True])
def test_sqlite_file_is_owner_only(tmp_path: Path, as_url: bool) -> None:
    target = tmp_path / "new" / "dir" / "orient.db"
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        engine = open_engine(f"sqlite:///{target}" if as_url else target)
        try:
            service = DossierService(engine)
            service.create(actor_for_role(service, Role.DOCTOR))  # something written, WAL used
            for file in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                if file.exists():
                    assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        finally:
            engine.dispose()
    finally:
        os.umask(old_umask)
    assert target.exists()
