"""Crash safety: a process answering questions is killed with SIGKILL; reopening the dossier shows
every answer it had reported as accepted (and nothing half-written) and asks the next question.

The child (crash_child.py) answers the inputs of tests/scenarios/doctor_full.json in order and
reports each committed answer on stdout; the parent kills it at a known point, in the middle of a
commit, or at random, then reopens the SQLite file in-process with DossierService.open.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orient.assistant.replay import actor_for_role
from orient.assistant.service import DossierService
from orient.assistant.store.db import open_engine
from orient.models.lifecycle import DossierStatus
from orient.models.users import Role

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL needs a POSIX system")

HERE = Path(__file__).resolve().parent
CHILD = HERE / "crash_child.py"
SCENARIO = HERE.parent / "scenarios" / "doctor_full.json"
PREFILLED = {"requester.name", "requester.rpps"}
SKIP = object()  # an optional field skipped with ""
WAIT = 20.0  # seconds: generous, a child normally reports within a second


# -- the reference conversation, uninterrupted, in-process --------------------------------------
@dataclass(frozen=True)
class Reference:
    order: list[tuple[str, Any]]  # (field_id, stored value or SKIP), in the order asked
    prefilled: dict[str, Any]
    seconds_per_answer: float

    def expected(self, n: int) -> tuple[dict[str, Any], set[str]]:
        answers = dict(self.prefilled)
        answers.update({f: v for f, v in self.order[:n] if v is not SKIP})
        return answers, {f for f, v in self.order[:n] if v is SKIP}

    def question_after(self, n: int) -> str | None:
        return self.order[n][0] if n < len(self.order) else None


def typed_inputs() -> dict[str, deque[str]]:
    data = json.loads(SCENARIO.read_text(encoding="utf-8"))
    return {f: deque(v) for f, v in data["answers"].items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    engine = open_engine(tmp_path_factory.mktemp("reference") / "reference.db")
    try:
        service = DossierService(engine)
        actor = actor_for_role(service, Role.DOCTOR)
        step = service.create(actor)
        dossier_id = step.dossier_id
        prefilled = dict(service.state(actor, dossier_id).answers)
        assert set(prefilled) == PREFILLED
        inputs = typed_inputs()
        fields: list[str] = []
        question = step.question
        started = time.perf_counter()
        while question is not None:
            queue_ = inputs.get(question.id)
            step = service.answer(actor, dossier_id, queue_.popleft() if queue_ else "")
            if step.ok:
                fields.append(question.id)
                question = step.question
        elapsed = time.perf_counter() - started
        final = service.state(actor, dossier_id)
        assert final.status == DossierStatus.READY
        order = [(f, final.answers.get(f, SKIP)) for f in fields]
        assert {f for f, v in order if v is SKIP} == final.skipped
        assert len(order) > 20
        return Reference(order, prefilled, elapsed / len(order))
    finally:
        engine.dispose()


# -- the child process ---------------------------------------------------------------------------
class Child:
    """crash_child.py in a subprocess; its stdout lines are collected by a thread."""

    def __init__(self, db: Path, *args: str) -> None:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        self.stderr_path = db.with_suffix(f".{time.monotonic_ns()}.stderr")
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), "--db", str(db), "--scenario", str(SCENARIO), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8").rstrip("\n")
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, prefix: str, timeout: float = WAIT) -> str:
        """The first (not yet consumed) line starting with `prefix`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = ""
                if left <= 0:
                    self.kill()
                    pytest.fail(f"no line {prefix!r} within {timeout}s; got {self.lines}; "
                                f"stderr: {self.stderr()}")
                continue
            if line is None:
                self.proc.wait()
                pytest.fail(f"child ended (rc={self.proc.returncode}) before {prefix!r}; "
                            f"got {self.lines}; stderr: {self.stderr()}")
            if line.startswith(prefix):
                return line

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)  # the rest of what it wrote before dying
        if self.proc.stdin:
            self.proc.stdin.close()
        self._stderr.close()

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-3000:]

    def reported(self) -> int:
        """The last answer count the child reported as committed."""
        counts = [int(line.split()[1]) for line in self.lines if line.startswith("k ")]
        first = next(line for line in self.lines if line.startswith("dossier "))
        return max([int(first.split()[2]), *counts])

    def dossier_id(self) -> str:
        return next(line for line in self.lines if line.startswith("dossier ")).split()[1]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A SQLite file with the demo accounts (their code hashing is paid here, not in each child)."""
    path = tmp_path / "orient.db"
    engine = open_engine(path)
    actor_for_role(DossierService(engine), Role.DOCTOR)
    engine.dispose()
    return path


def answered(state: Any) -> int:
    return len(set(state.answers) - PREFILLED) + len(state.skipped)


def check_reopened(db: Path, dossier_id: str, n: int, reference: Reference, context: str) -> None:
    """The dossier holds exactly the first n answers of the reference, asks field n+1, and the
    audit chain verifies."""
    engine = open_engine(db, create=False)
    try:
        service = DossierService(engine)
        actor = actor_for_role(service, Role.DOCTOR)
        before = service.verify_audit()
        assert before.ok, f"{context}: audit after the kill: {before.message}"
        step = service.open(actor, dossier_id)
        state = service.state(actor, dossier_id)
        answers, skipped = reference.expected(n)
        assert state.answers == answers, f"{context}: answers after reopening"
        assert state.skipped == skipped, f"{context}: skipped fields after reopening"
        asked = step.question.id if step.question else None
        assert asked == reference.question_after(n), f"{context}: question asked after reopening"
        after = service.verify_audit()
        assert after.ok, f"{context}: audit after reopening: {after.message}"
        assert after.entries > before.entries  # the reopening itself was audited
    finally:
        engine.dispose()


def finish_in_process(db: Path, dossier_id: str, reference: Reference) -> None:
    """The crashed dossier is still usable: answering the rest reaches the reference's end state."""
    engine = open_engine(db, create=False)
    try:
        service = DossierService(engine)
        actor = actor_for_role(service, Role.DOCTOR)
        step = service.open(actor, dossier_id)
        inputs = typed_inputs()
        done = answered(service.state(actor, dossier_id))
        for field_id, _ in reference.order[:done]:  # inputs already used up before the crash
            inputs.pop(field_id, None)
        question = step.question
        while question is not None:
            queue_ = inputs.get(question.id)
            step = service.answer(actor, dossier_id, queue_.popleft() if queue_ else "")
            if step.ok:
                question = step.question
        state = service.state(actor, dossier_id)
        assert state.status == DossierStatus.READY
        answers, skipped = reference.expected(len(reference.order))
        assert (state.answers, state.skipped) == (answers, skipped)
        assert service.verify_audit().ok
    finally:
        engine.dispose()


# -- (a) killed at a known point, after k answers -------------------------------------------------
@pytest.mark.parametrize("k", [1, 5, 17])
def test_killed_after_k_answers_keeps_them_all(db: Path, reference: Reference, k: int) -> None:
    child = Child(db, "--stop-after", str(k))
    try:
        child.wait_for("dossier ")
        line = child.wait_for(f"k {k} ")
        assert line == f"k {k} {reference.order[k - 1][0]}"
    finally:
        child.kill()
    assert child.proc.returncode == -signal.SIGKILL
    assert child.reported() == k
    check_reopened(db, child.dossier_id(), k, reference, f"killed after {k} answers")


def test_killed_twice_resumes_each_time(db: Path, reference: Reference) -> None:
    """Kill, reopen in a new process, answer more, kill again: nothing from either run is lost."""
    first = Child(db, "--stop-after", "3")
    try:
        first.wait_for("k 3 ")
    finally:
        first.kill()
    dossier_id = first.dossier_id()
    second = Child(db, "--dossier", dossier_id, "--stop-after", "9")
    try:
        assert second.wait_for("dossier ") == f"dossier {dossier_id} 3"
        assert second.wait_for("k ") == f"k 4 {reference.order[3][0]}"  # resumes at question 4
        second.wait_for("k 9 ")
    finally:
        second.kill()
    check_reopened(db, dossier_id, 9, reference, "killed after 3, resumed, killed after 9")


# -- (b) killed in the middle of the commit of answer k+1 ----------------------------------------
@pytest.mark.parametrize("k", [0, 6, 30])
def test_killed_during_commit_loses_only_the_uncommitted_answer(
    db: Path, reference: Reference, k: int
) -> None:
    # k = 6: the next field (birth date) first gets a refused input, whose commit writes no answer
    child = Child(db, "--pause-commit-at", str(k + 1))
    try:
        child.wait_for("dossier ")
        line = child.wait_for(f"in-commit {k + 1} ")
    finally:
        child.kill()
    # inside the killed transaction, answer k+1 was written (k answers + 2 prefilled + 1 rows)
    assert line == f"in-commit {k + 1} rows={k + len(PREFILLED) + 1}"
    assert child.proc.returncode == -signal.SIGKILL
    assert child.reported() == k
    assert not any(line.startswith(f"k {k + 1} ") for line in child.lines)
    dossier_id = child.dossier_id()
    check_reopened(db, dossier_id, k, reference, f"killed while committing answer {k + 1}")
    finish_in_process(db, dossier_id, reference)


# -- (c) killed at random moments while answering without pause ----------------------------------
def test_random_kills_never_lose_a_reported_answer(db: Path, reference: Reference) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    dossier_id: str | None = None
    done_before = 0
    interrupted = 0
    for run in range(8):
        args = ["--dossier", dossier_id] if dossier_id else []
        child = Child(db, *args)
        try:
            child.wait_for("dossier ")
            remaining = max(len(reference.order) - done_before, 10)
            # mostly within the time the remaining answers take in-process; sometimes after the end
            time.sleep(rng.uniform(0.0, 1.5 * remaining * reference.seconds_per_answer))
        finally:
            child.kill()
        dossier_id = child.dossier_id()
        k = child.reported()
        context = f"seed {seed}, run {run}, last reported k={k}, output {child.lines[-3:]}"
        assert "done" in child.lines or child.proc.returncode == -signal.SIGKILL, context

        engine = open_engine(db, create=False)
        try:
            service = DossierService(engine)
            actor = actor_for_role(service, Role.DOCTOR)
            n = answered(service.state(actor, dossier_id))
        finally:
            engine.dispose()
        assert k <= n <= k + 1, context
        check_reopened(db, dossier_id, n, reference, context)
        if "done" in child.lines:
            dossier_id, done_before = None, 0  # complete: the next run starts a new dossier
        else:
            interrupted += 1
            done_before = n
    assert interrupted >= 1, f"seed {seed}: no run was killed while answering"
