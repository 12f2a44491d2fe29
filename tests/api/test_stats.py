"""`GET /stats` on a world with known delays (issue 13, statistics): referrals sent and answered
through the API with the hub's clock set for each step, around the end of October 2026 in
Paris, so that the months follow French local time. The figures are checked exactly, for every
role, with the filters (unit, from/to months) and their French refusals; nothing of a patient or
of a free text reaches any caller. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from api_helpers import (
    PARIS,
    RECEIVER_UNITS,
    Clock,
    Env,
    Roles,
    User,
    detail_of,
    looks_french,
    make_roles,
)

U1, U2 = RECEIVER_UNITS[:2]
START = datetime(2026, 10, 31, 23, 30, tzinfo=PARIS)  # d1: October in Paris
SECRET = "Patient instable, voir avec le SAMU"  # a refusal's free text: never in the statistics


@dataclass
class World:
    env: Env
    r: Roles
    recv_u1: User  # the user of unit U1 only
    refs: dict[str, dict[str, Any]]


def stats(env: Env, who: User, **params: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return dict(env.ok("GET", "/stats" + (f"?{query}" if query else ""), who))


def unit_of(body: dict[str, Any], unit_id: str) -> dict[str, Any]:
    return next(u for u in body["units"] if u["unit_id"] == unit_id)


@pytest.fixture(scope="module")
def world(module_db_url: str) -> Iterator[World]:
    env = Env(module_db_url, clock=Clock(start=START - timedelta(hours=1)))
    try:
        r = make_roles(env, units=RECEIVER_UNITS)
        recv_u1 = env.user("receiver", "Accueil cardiologie Purpan", units=(U1,))
        refs: dict[str, dict[str, Any]] = {}

        def send(doctor: User, at: datetime, units: tuple[str, ...], name: str) -> None:
            assert env.clock() <= at - timedelta(minutes=20)
            env.clock.now = at - timedelta(minutes=20)
            dossier = env.signed(doctor, units=units)["dossier_id"]
            env.clock.now = at
            sent = env.ok("POST", f"/dossiers/{dossier}/send", doctor,
                          json={"idempotency_key": f"k-{uuid.uuid4()}"})["referrals"]
            for x in sent:
                refs[f"{name}@{'U1' if x['unit_id'] == U1 else 'U2'}"] = x

        def unit(ref: str, minutes: int, action: str, who: User, **body: Any) -> None:
            moment = datetime.fromisoformat(refs[ref]["sent_at"]) + timedelta(minutes=minutes)
            assert env.clock() <= moment, (ref, minutes)
            env.clock.now = moment
            if action == "accept":
                body = {"admission_at": (env.clock() + timedelta(hours=3)).isoformat(), "contact": "Poste 12"}
            env.ok("POST", f"/inbox/{refs[ref]['id']}/{action}", who, json=body or None)

        # (in the order of the clock, which never goes back)
        # d1, 31/10 23:30 (October in Paris): U1 reads at 10 min, refuses at 30; U2 reads at 60,
        # accepts at 90
        send(r.owner, START, (U1, U2), "d1")
        unit("d1@U1", 10, "open", recv_u1)
        unit("d1@U1", 30, "refuse", recv_u1, reason="no_bed")
        # d2, 01/11 00:30 in Paris (still 31/10 in UTC: November here): U1 reads at 20, asks at 40
        # (its first answer), accepts at 300 after the doctor's answer
        send(r.owner, START + timedelta(hours=1), (U1,), "d2")
        unit("d1@U2", 60, "open", r.recv_unit)
        unit("d2@U1", 20, "open", recv_u1)
        unit("d1@U2", 90, "accept", r.recv_unit)
        unit("d2@U1", 40, "request-info", recv_u1, question="Dernière créatininémie ?")
        env.clock.now += timedelta(minutes=10)
        env.ok("POST", f"/referrals/{refs['d2@U1']['id']}/answer-info", r.owner, json={"text": "92 µmol/L"})
        unit("d2@U1", 300, "accept", recv_u1)
        # d3, 02/11 10:00: U1 reads at 5, refuses at 300 (after its 4 h deadline); U2 never answers
        send(r.owner, datetime(2026, 11, 2, 10, 0, tzinfo=PARIS), (U1, U2), "d3")
        unit("d3@U1", 5, "open", recv_u1)
        # another doctor's referral to U1, 02/11 12:00, accepted at 15
        send(r.other_doctor, datetime(2026, 11, 2, 12, 0, tzinfo=PARIS), (U1,), "b1")
        unit("b1@U1", 1, "open", recv_u1)
        unit("b1@U1", 15, "accept", recv_u1)
        unit("d3@U1", 300, "refuse", recv_u1, reason="other", text=SECRET)
        # now: 02/11 16:00, d3@U2 is 2 h past its deadline (14:00)
        env.clock.now = datetime(2026, 11, 2, 16, 0, tzinfo=PARIS)
        yield World(env, r, recv_u1, refs)
    finally:
        env.close()


def test_the_doctor_sees_their_referrals_per_unit_and_per_month(world: World) -> None:
    body = stats(world.env, world.r.owner)
    assert body["scope"] == "doctor"
    total = body["total"]
    assert (total["sent"], total["read"], total["answered"], total["accepted"], total["refused"]) == (5, 4, 4, 2, 2)
    assert total["acceptance_rate"] == 0.5
    assert total["refused_by_reason"] == {"no_bed": 1, "other": 1}
    assert total["overdue"] == 1 and total["answered_late"] == 1 and total["info_requested"] == 1
    # first answers after 30, 90, 40 and 300 min: median 65; p90 between the 3rd and the 4th
    assert total["answer_delay"] == {"count": 4, "median_minutes": 65.0, "p90_minutes": 237.0}
    assert total["read_delay"] == {"count": 4, "median_minutes": 15.0, "p90_minutes": 48.0}

    assert [u["unit_id"] for u in body["units"]] == [U1, U2]  # the most used first
    u1, u2 = unit_of(body, U1), unit_of(body, U2)
    assert u1["unit_name"] and u1["establishment"]
    f1 = u1["figures"]
    assert (f1["sent"], f1["accepted"], f1["refused"], f1["overdue"], f1["answered_late"]) == (3, 1, 2, 0, 1)
    assert f1["acceptance_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert f1["answer_delay"] == {"count": 3, "median_minutes": 40.0, "p90_minutes": 248.0}
    assert f1["read_delay"] == {"count": 3, "median_minutes": 10.0, "p90_minutes": 18.0}
    f2 = u2["figures"]
    assert (f2["sent"], f2["accepted"], f2["refused"], f2["overdue"], f2["acceptance_rate"]) == (2, 1, 0, 1, 1.0)
    assert f2["answer_delay"] == {"count": 1, "median_minutes": 90.0, "p90_minutes": 90.0}

    # the months of Paris: d1 in October, d2 (00:30 on 1 November, 23:30 UTC the day before) in November
    months = {m["month"]: m["figures"] for m in body["months"]}
    assert list(months) == ["2026-10", "2026-11"]
    assert months["2026-10"]["sent"] == 2 and months["2026-10"]["answer_delay"]["median_minutes"] == 60.0
    assert months["2026-11"]["sent"] == 3 and months["2026-11"]["answer_delay"]["median_minutes"] == 170.0
    u1_months = {m["month"]: m["figures"]["answer_delay"]["median_minutes"] for m in u1["months"]}
    assert u1_months == {"2026-10": 30.0, "2026-11": 170.0}
    # the first shape of the route is still there
    assert body["overdue"] == 1 and body["overall"]["count"] == 4
    assert set(body["by_unit"]) == {U1, U2}
    assert body["by_status"] == {"accepted": 2, "refused": 2, "sent": 1}


def test_filters_by_unit_and_months(world: World) -> None:
    env, owner = world.env, world.r.owner
    november = stats(env, owner, **{"from": "2026-11"})
    assert november["from_month"] == "2026-11" and november["total"]["sent"] == 3
    assert [m["month"] for m in november["months"]] == ["2026-11"]
    october = stats(env, owner, to="2026-10")
    assert october["total"]["sent"] == 2 and october["total"]["answer_delay"]["median_minutes"] == 60.0
    only_u2 = stats(env, owner, unit=U2)
    assert only_u2["unit"] == U2 and [u["unit_id"] for u in only_u2["units"]] == [U2]
    assert only_u2["total"]["sent"] == 2
    assert stats(env, owner, unit=U2, **{"from": "2026-11", "to": "2026-11"})["total"]["sent"] == 1
    assert stats(env, owner, **{"from": "2026-12"})["total"]["sent"] == 0
    # a unit the doctor never sent to: nothing, rather than an error
    assert stats(env, owner, unit=RECEIVER_UNITS[5])["units"] == []


@pytest.mark.parametrize("query", ["from=2026-13", "to=11-2026", "from=2026-12&to=2026-11",
                                   "unit=no-such-unit", "from=26-11"])
def test_bad_filters_are_refused_in_french(world: World, query: str) -> None:
    response = world.env.call("GET", f"/stats?{query}", world.r.owner)
    assert response.status_code == 422, response.text
    assert looks_french(detail_of(response)), response.text


def test_each_role_sees_what_it_may_follow(world: World) -> None:
    env, r = world.env, world.r
    mine = stats(env, r.owner)
    # the other doctor: their one referral, never the owner's
    other = stats(env, r.other_doctor)
    assert other["total"]["sent"] == 1 and [u["unit_id"] for u in other["units"]] == [U1]
    assert other["total"]["answer_delay"]["median_minutes"] == 15.0
    # the owner's secretaries (any scope) see the owner's figures; a secretary without delegation nothing
    for secretary in (r.sec_deleg, r.sec_medical, r.sec_send):
        seen = stats(env, secretary)
        assert seen["scope"] == "secretary"
        assert {k: v for k, v in seen.items() if k != "scope"} == {k: v for k, v in mine.items() if k != "scope"}
    none = stats(env, r.sec_none)
    assert none["total"]["sent"] == 0 and none["units"] == [] and none["months"] == []
    # the user of U1: every referral U1 received (both doctors'), never U2's
    unit1 = stats(env, world.recv_u1)
    assert unit1["scope"] == "receiver" and [u["unit_id"] for u in unit1["units"]] == [U1]
    assert unit1["total"]["sent"] == 4 and unit1["total"]["accepted"] == 2
    assert unit1["total"]["answer_delay"] == {"count": 4, "median_minutes": 35.0, "p90_minutes": 222.0}
    refused = world.env.call("GET", f"/stats?unit={U2}", world.recv_u1)
    assert refused.status_code == 422 and looks_french(detail_of(refused))
    # a unit of other units: nothing
    assert stats(env, r.recv_other)["total"]["sent"] == 0
    # the admin: every unit, figures only
    admin = stats(env, r.admin)
    assert admin["scope"] == "admin"
    assert {u["unit_id"]: u["figures"]["sent"] for u in admin["units"]} == {U1: 4, U2: 2}


def test_no_patient_and_no_free_text_reaches_anyone(world: World) -> None:
    env, r = world.env, world.r
    for who in (r.owner, r.sec_deleg, world.recv_u1, r.recv_unit, r.admin):
        text = json.dumps(stats(env, who), ensure_ascii=False)
        for secret in (SECRET, "Martin", "Jeanne", "créatininémie", "92 µmol", "Poste 12",
                       world.refs["d1@U1"]["id"], world.refs["d1@U1"]["dossier_id"]):
            assert secret not in text, (who.role, secret)


def test_the_stats_route_needs_a_token(world: World) -> None:
    response = world.env.call("GET", "/stats")
    assert response.status_code == 401 and looks_french(detail_of(response))
