"""Latency from an answer to the next question, for a full doctor's referral replayed in process.

Two runs in one process, same inputs:
- engine only (the baseline): the pure engine over an in-memory dossier;
- with storage: DossierService on a SQLite file, each answer committed (with its audit entries)
  before the next question is returned.

Usage: python benchmarks/answer_latency.py [--dossiers N]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections import deque
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from orient.assistant import demo_accounts, demo_world
from orient.assistant.directory.communes import default_table
from orient.assistant.engine import Engine, Lookups
from orient.assistant.service import DossierService, paris_now
from orient.assistant.store import accounts
from orient.assistant.store.db import open_engine
from orient.dialogs.hnp import HNP

SCENARIO = Path(__file__).resolve().parents[1] / "tests" / "scenarios" / "doctor_full.json"


def inputs() -> dict[str, list[str]]:
    return json.loads(SCENARIO.read_text(encoding="utf-8"))["answers"]


def typed_for(queues: dict[str, deque[str]], field_id: str) -> str:
    queue = queues.get(field_id)
    return queue.popleft() if queue else ""


def run_engine_only(n: int) -> list[float]:
    engine = Engine(HNP, Lookups(now=paris_now, communes=default_table()))
    actor = demo_accounts.DEMO_DOCTOR
    from orient.models.users import Actor

    doctor = Actor(actor.user_id, actor.role, actor.name, rpps=actor.rpps)
    samples = []
    for i in range(n):
        state = engine.new_dossier(f"d{i}", doctor.rpps or "", doctor.name).state
        queues = {k: deque(v) for k, v in inputs().items()}
        question = engine.next_question(state, doctor)
        while question is not None:
            typed = typed_for(queues, question.id)
            t0 = time.perf_counter()
            out = engine.answer(state, doctor, typed)
            samples.append(time.perf_counter() - t0)
            if out.ok:
                state, question = out.state, out.next
    return samples


def run_with_storage(n: int, folder: Path) -> list[float]:
    db = open_engine(folder / "bench.db")
    service = DossierService(db)
    with Session(db) as session:
        demo_world.ensure_demo_accounts(session)
        doctor = accounts.actor_for(session, demo_accounts.DEMO_DOCTOR.user_id)
    samples = []
    for _ in range(n):
        step = service.create(doctor)
        queues = {k: deque(v) for k, v in inputs().items()}
        question = step.question
        while question is not None:
            typed = typed_for(queues, question.id)
            t0 = time.perf_counter()
            step = service.answer(doctor, step.dossier_id, typed)
            samples.append(time.perf_counter() - t0)
            if step.ok:
                question = step.question
    db.dispose()
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3),
        "max_ms": round(ms[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=40)
    args = parser.parse_args()
    default_table().resolve("Toulouse")  # load the commune table outside the measure
    run_engine_only(2)  # warm-up
    base = summary(run_engine_only(args.dossiers))
    with tempfile.TemporaryDirectory() as tmp:
        stored = summary(run_with_storage(args.dossiers, Path(tmp)))
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{datetime.now().isoformat(timespec='seconds')}")
    print(f"engine only  : {base}")
    print(f"with storage : {stored}")
    print(f"ratio p95 storage/engine: {stored['p95_ms'] / base['p95_ms']:.1f}x")


if __name__ == "__main__":
    main()
