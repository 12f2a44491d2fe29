"""Counters that told every caller about everybody's activity (issue 11, finding 11): the feed
handed every role the global event counter (`last`, each event's `seq`), so that a doctor could
count other doctors' and units' events between two of their own; `/audit/verify` gave any user
the number of entries of the whole log. Now each caller gets cursors of their own, which do not
move when others act and mean nothing to another caller, and audit totals go to admins only
(anybody else gets the count of their own entries)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import (
    CHU_UNITS,
    RECEIVER_UNITS,
    Env,
    Roles,
    detail_of,
    looks_french,
    make_env,
    receiver_roles,
)
from sqlalchemy import select

from orient.assistant.store.tables import FeedEventRow


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[Env, Roles]]:
    env = make_env(db_url)
    r = receiver_roles(env)
    yield env, r
    env.close()


def _feed(env: Env, who: Any, after: int) -> dict[str, Any]:
    return dict(env.ok("GET", "/feed", who, params={"after": after, "wait": 0}))


def _global_seqs(env: Env) -> set[int]:
    with env.engine.connect() as conn:
        return {int(s) for s in conn.execute(select(FeedEventRow.__table__.c.seq)).scalars()}  # type: ignore[attr-defined]


def test_the_feed_position_does_not_move_when_others_act(world: tuple[Env, Roles]) -> None:
    env, r = world
    env.sent(r.owner, units=CHU_UNITS[:1])
    start = _feed(env, r.owner, -1)["last"]
    receiver_start = _feed(env, r.recv_other, -1)["last"]
    # another doctor sends, a unit of other wards is untouched: dozens of events, none for them
    env.sent(r.other_doctor, units=RECEIVER_UNITS[3:5])
    assert len(_global_seqs(env)) >= 3
    assert _feed(env, r.owner, -1)["last"] == start
    assert _feed(env, r.recv_other, -1)["last"] == receiver_start == 0
    waited = _feed(env, r.owner, start)
    assert waited == {"events": [], "last": start}
    # the admin sees no event and no position
    assert _feed(env, r.admin, -1) == {"events": [], "last": 0}


def test_cursors_are_the_callers_own(world: tuple[Env, Roles]) -> None:
    env, r = world
    env.sent(r.owner, units=CHU_UNITS[:2])
    env.sent(r.other_doctor, units=RECEIVER_UNITS[3:4])
    seen = _feed(env, r.owner, 0)
    assert [e["dossier_id"] for e in seen["events"]]
    cursors = [e["seq"] for e in seen["events"]] + [seen["last"]]
    # no global position shows: cursors are large opaque numbers, not the sequence
    assert not set(cursors) & _global_seqs(env)
    assert all(c > 2**32 for c in cursors)
    # the delegated secretary follows the same dossiers with cursors of her own
    hers = _feed(env, r.sec_deleg, 0)
    assert [e["referral_id"] for e in hers["events"]] == [e["referral_id"] for e in seen["events"]]
    assert not {e["seq"] for e in hers["events"]} & set(cursors)
    # another caller cannot use them (nor learn a position from them): a French 422
    for who in (r.other_doctor, r.sec_deleg, r.recv_unit):
        response = env.call("GET", "/feed", who, params={"after": seen["last"], "wait": 0})
        assert response.status_code == 422, response.text
        assert looks_french(detail_of(response)) and "Curseur du fil inconnu" in detail_of(response)


def test_a_cursor_resumes_exactly_after_others_acted(world: tuple[Env, Roles]) -> None:
    env, r = world
    env.sent(r.owner, units=CHU_UNITS[:1])
    last = _feed(env, r.owner, -1)["last"]
    env.sent(r.other_doctor, units=RECEIVER_UNITS[3:4])
    dossier, refs = env.sent(r.owner, units=CHU_UNITS[1:2])
    env.sent(r.other_doctor, units=RECEIVER_UNITS[4:5])
    got = _feed(env, r.owner, last)
    assert {e["dossier_id"] for e in got["events"]} == {dossier}
    assert {e["referral_id"] for e in got["events"]} == {refs[0]["id"]}
    # resuming from an event's own cursor gives what followed it
    assert _feed(env, r.owner, got["events"][-1]["seq"])["events"] == []
    assert _feed(env, r.owner, got["last"]) == {"events": [], "last": got["last"]}


def test_a_made_up_cursor_is_refused_in_french(sqlite_env: Env) -> None:
    for after in (1, 2, 12345, 2**61 + 7):
        response = sqlite_env.call("GET", "/feed", sqlite_env.demo_doctor, params={"after": after, "wait": 0})
        assert response.status_code == 422, response.text
        assert "Curseur du fil inconnu" in detail_of(response)


def _export(env: Env) -> list[dict[str, Any]]:
    response = env.call("GET", "/audit/export", env.admin)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_audit_verify_gives_totals_to_admins_only(world: tuple[Env, Roles]) -> None:
    env, r = world
    env.sent(r.owner, units=CHU_UNITS[:1])
    callers = (r.owner, r.other_doctor, r.sec_deleg, r.recv_unit, r.recv_other)
    before = {c.id: env.ok("GET", "/audit/verify", c) for c in callers}
    env.sent(r.other_doctor, units=RECEIVER_UNITS[3:4])  # dozens of entries, none by the others
    for c in (r.owner, r.sec_deleg, r.recv_unit, r.recv_other):
        assert env.ok("GET", "/audit/verify", c) == before[c.id], c.name
    entries = _export(env)
    for c in callers:
        verdict = env.ok("GET", "/audit/verify", c)
        own = sum(1 for e in entries if e["actor"] == c.id)
        assert verdict["ok"] is True and verdict["bad_seq"] is None
        assert verdict["entries"] == own, c.name
        assert str(len(entries)) not in verdict["message"]
    admin = env.ok("GET", "/audit/verify", r.admin)
    assert admin["ok"] is True and admin["entries"] >= len(entries)
