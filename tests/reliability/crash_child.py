"""Child process for test_crash_safety.py (test code, not product code).

Opens a SQLite file, creates a dossier as the demo doctor (or reopens one), and answers the
inputs of a scenario in order: for the question the service asks, it types the next input listed
for that field ("" skips an optional field). Protocol on stdout, one line each, flushed:

    dossier <id> <k0>     the dossier is open; k0 answers were already stored
    k <field_id>          the k-th answer (counting k0) is committed; <field_id> was answered
    in-commit <k+1> rows=<r>  (--pause-commit-at) the rows of answer k+1 are written, COMMIT not yet
                          done; r answer rows of the dossier are visible inside the transaction
    done                  no question left

Options:
    --stop-after K        after reporting answer K, block on stdin (the parent kills us)
    --pause-commit-at K   on the commit that writes answer K: flush the rows to SQLite inside the
                          open transaction, report "in-commit K" and sleep (the parent kills us)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from typing import Any

import sqlmodel
from sqlalchemy import text

from orient.assistant.replay import actor_for_role
from orient.assistant.service import DossierService
from orient.assistant.store import dossiers
from orient.assistant.store.db import open_engine
from orient.models.users import Role

PREFILLED = {"requester.name", "requester.rpps"}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--dossier")
    parser.add_argument("--stop-after", type=int)
    parser.add_argument("--pause-commit-at", type=int)
    args = parser.parse_args()

    with open(args.scenario, encoding="utf-8") as fh:
        inputs = {f: deque(v) for f, v in json.load(fh)["answers"].items()}

    service = DossierService(open_engine(args.db))
    actor = actor_for_role(service, Role.DOCTOR)
    step = service.open(actor, args.dossier) if args.dossier else service.create(actor)
    dossier_id = step.dossier_id
    state = service.state(actor, dossier_id)
    k = len(set(state.answers) - PREFILLED) + len(state.skipped)

    if args.pause_commit_at is not None:
        real_save, real_commit = dossiers.save, sqlmodel.Session.commit

        def marking_save(session: sqlmodel.Session, *a: Any, **kw: Any) -> Any:
            session.info["writes_answer"] = kw.get("base_version") is not None
            return real_save(session, *a, **kw)

        def pausing_commit(self: sqlmodel.Session) -> None:
            writes_answer = self.info.pop("writes_answer", False)
            if writes_answer and k + 1 == args.pause_commit_at:
                self.flush()  # every row of this answer (answer, dossier, audit) is now in SQLite
                rows = self.execute(
                    text("SELECT count(*) FROM answer WHERE dossier_id = :d"), {"d": dossier_id}
                ).scalar_one()
                say(f"in-commit {k + 1} rows={rows}")
                time.sleep(60)
            real_commit(self)

        dossiers.save = marking_save  # type: ignore[assignment]
        sqlmodel.Session.commit = pausing_commit  # type: ignore[method-assign,assignment]

    say(f"dossier {dossier_id} {k}")
    question = step.question
    while question is not None:
        queue = inputs.get(question.id)
        typed = queue.popleft() if queue else ""
        step = service.answer(actor, dossier_id, typed)
        if not step.ok:
            if not queue and typed == "":
                say(f"stuck {question.id} {step.message}")
                return 3
            continue  # a refused input: the same question, the next input for it
        k += 1
        say(f"k {k} {question.id}")
        if args.stop_after is not None and k == args.stop_after:
            sys.stdin.read()  # blocks until the parent kills us
            return 4
        question = step.question
    say("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
