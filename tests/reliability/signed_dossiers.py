"""Signed dossiers, many and fast, for the sending tests.

One dossier is driven through the real conversation with the normal hub client (the inputs of
tests/scenarios/doctor_full.json, signed with the demo doctor's code, units chosen); the others are
copies of its rows (dossier and answers, with new ids: same answers, so the same signature hash),
and their units are chosen through the normal client too. Only the sends are left to the tests.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from orient.assistant import demo_accounts, replay
from orient.assistant.client import HubClient
from orient.assistant.store import audit
from orient.assistant.store.tables import AnswerRow, DossierRow, ReferralRow
from orient.models.users import Actor, Role

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "doctor_full.json"
DOSSIER = DossierRow.__table__  # type: ignore[attr-defined]
ANSWER = AnswerRow.__table__  # type: ignore[attr-defined]
REFERRAL = ReferralRow.__table__  # type: ignore[attr-defined]

DOCTOR = Actor(demo_accounts.DEMO_DOCTOR.user_id, Role.DOCTOR, demo_accounts.DEMO_DOCTOR.name,
               rpps=demo_accounts.DEMO_DOCTOR.rpps)


def signing_scenario() -> replay.Scenario:
    data = json.loads(SCENARIO.read_text(encoding="utf-8"))
    data.update(sign=True, send=False, choose=[1])
    return replay.parse_scenario(data)


@dataclass
class Template:
    dossier_id: str
    unit_ids: list[str]  # proposed units, best first


async def signed_template(client: HubClient) -> Template:
    """One dossier driven to "signed" through the hub client, with the units proposed."""
    dossier_id, report = await replay.replay_with_client(signing_scenario(), client)
    assert report["status"] == "signed", report
    assert not report["errors"], report["errors"]
    units = [p["unit_id"] for p in report["proposals"]]
    assert len(units) >= 5, units
    return Template(dossier_id, units)


def clone(engine: DbEngine, dossier_id: str, count: int) -> list[str]:
    """`count` copies of a dossier's rows (status, signature and answers), with new ids."""
    with engine.begin() as conn:
        row = dict(conn.execute(select(DOSSIER).where(DOSSIER.c.id == dossier_id)).mappings().one())
        answers = [dict(a) for a in conn.execute(
            select(ANSWER).where(ANSWER.c.dossier_id == dossier_id)).mappings()]
        ids = []
        for _ in range(count):
            new_id = str(uuid4())
            ids.append(new_id)
            conn.execute(insert(DOSSIER).values({**row, "id": new_id}))
            conn.execute(insert(ANSWER), [{**a, "dossier_id": new_id} for a in answers])
    # each copy's signature recorded as signing does (the audit binds a signature to its answers)
    digest = json.loads(row["signature_json"])["answers_hash"]
    with Session(engine) as session:
        audit.append(session, [audit.AuditRecord(event="signed", actor=DOCTOR.user_id, role="doctor",
                                                 dossier_id=i, value=digest) for i in ids])
        session.commit()
    return ids


async def signed_dossiers(engine: DbEngine, client: HubClient, count: int,
                          rng: random.Random) -> dict[str, list[str]]:
    """`count` signed dossiers, each with 1 to 5 units chosen (through the client):
    {dossier id: chosen unit ids}."""
    template = await signed_template(client)
    chosen: dict[str, list[str]] = {}
    for dossier_id in [template.dossier_id, *clone(engine, template.dossier_id, count - 1)]:
        units = rng.sample(template.unit_ids[:8], rng.randint(1, 5))
        answer = await client.choose(dossier_id, units)
        assert answer["unit_ids"] == units, (answer, units)
        chosen[dossier_id] = units
    return chosen


def referral_rows(engine: DbEngine, dossier_id: str) -> list[tuple[str, str]]:
    """(referral id, unit id) of the dossier's referrals, as stored."""
    with engine.connect() as conn:
        return [(r.id, r.unit_id) for r in conn.execute(
            select(REFERRAL.c.id, REFERRAL.c.unit_id).where(REFERRAL.c.dossier_id == dossier_id))]


def referral_counts(engine: DbEngine) -> dict[str, int]:
    with engine.connect() as conn:
        return {d: n for d, n in conn.execute(
            select(REFERRAL.c.dossier_id, func.count()).group_by(REFERRAL.c.dossier_id))}
