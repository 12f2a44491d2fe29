"""Concurrent edits never lose an answer (spec/lifecycle.md "Guarantees"), concurrent sends and
acceptances stay exactly-once; and bad requests get a 4xx with a French message, never a 500,
and change nothing (the dossier's version and answers, the referral, the audit chain).

Known product bugs are checked to still hold and reported as xfail (see KNOWN_BAD_INPUT), so that
a fix shows up as a failure asking to remove the entry.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from api_helpers import (
    DOCTOR_FULL,
    RECEIVER_UNITS,
    Env,
    Roles,
    User,
    detail_of,
    looks_french,
    make_env,
    receiver_roles,
)


def typed_for(field_id: str) -> str:
    """The (last, accepted) input of doctor_full.json for a field."""
    return DOCTOR_FULL[field_id][-1]


def question_of(env: Env, who: User, dossier_id: str) -> tuple[str, int]:
    view = env.dossier(who, dossier_id)
    return view["question"]["field"], view["version"]


# -- two editors on one dossier -------------------------------------------------------------------
def test_stale_write_is_refused_with_the_current_state_and_nothing_is_lost(env: Env) -> None:
    r = receiver_roles(env)
    # the doctor has answered up to the request: his next question is a doctor-only field, the
    # secretary's next one is one of hers further on
    step = env.fill(r.owner, stop_before="request.specialty")
    dossier = step["dossier_id"]
    doctor_field, version = question_of(env, r.owner, dossier)
    secretary_field, version_seen = question_of(env, r.sec_deleg, dossier)
    assert doctor_field == "request.specialty" and secretary_field != doctor_field
    assert version_seen == version
    answers_before = env.dossier(r.owner, dossier)["answers"]

    won = env.ok("POST", f"/dossiers/{dossier}/answer", r.owner,
                 json={"text": typed_for(doctor_field), "version": version})
    assert won["ok"] and won["version"] == version + 1
    lost = env.call("POST", f"/dossiers/{dossier}/answer", r.sec_deleg,
                    json={"text": typed_for(secretary_field), "version": version})
    assert lost.status_code == 409, lost.text
    body = lost.json()
    assert looks_french(body["detail"]) and "entre-temps" in body["detail"]
    current = body["current"]
    assert current["dossier_id"] == dossier and current["version"] == version + 1
    assert current["question"]["field"] == secretary_field  # her question, shown again
    assert secretary_field not in env.dossier(r.owner, dossier)["answers"]  # not written
    # she retries with the fresh version: both answers are there
    retried = env.ok("POST", f"/dossiers/{dossier}/answer", r.sec_deleg,
                     json={"text": typed_for(secretary_field), "version": current["version"]})
    assert retried["ok"] and retried["version"] == version + 2
    answers = env.dossier(r.owner, dossier)["answers"]
    assert doctor_field in answers and secretary_field in answers
    assert {k: v for k, v in answers.items() if k in answers_before} == answers_before

    # the same race, truly simultaneous: exactly one wins, the other gets 409 and retries
    doctor_field, version = question_of(env, r.owner, dossier)
    secretary_field, _ = question_of(env, r.sec_deleg, dossier)
    assert doctor_field != secretary_field

    async def race() -> list[httpx.Response]:
        return list(await asyncio.gather(
            env.acall("POST", f"/dossiers/{dossier}/answer", r.owner,
                      json={"text": typed_for(doctor_field), "version": version}),
            env.acall("POST", f"/dossiers/{dossier}/answer", r.sec_deleg,
                      json={"text": typed_for(secretary_field), "version": version}),
        ))

    responses = env.run(race())
    assert sorted(x.status_code for x in responses) == [200, 409], [x.text for x in responses]
    loser = next(i for i, x in enumerate(responses) if x.status_code == 409)
    fresh = responses[loser].json()["current"]["version"]
    assert fresh == version + 1
    who, field_id = ((r.owner, doctor_field), (r.sec_deleg, secretary_field))[loser]
    assert env.ok("POST", f"/dossiers/{dossier}/answer", who,
                  json={"text": typed_for(field_id), "version": fresh})["ok"]
    answers = env.dossier(r.owner, dossier)["answers"]
    assert doctor_field in answers and secretary_field in answers
    env.audit_ok()


def test_many_simultaneous_writes_with_one_version_one_wins(sqlite_env: Env) -> None:
    env = sqlite_env
    r = receiver_roles(env)
    step = env.fill(r.owner, stop_before="patient.commune")
    dossier, version = step["dossier_id"], step["version"]

    async def burst() -> list[httpx.Response]:
        calls = [env.acall("POST", f"/dossiers/{dossier}/answer", who,
                           json={"text": "Toulouse", "version": version})
                 for who in (r.owner, r.sec_deleg, r.sec_medical, r.sec_send, r.owner, r.sec_deleg)]
        calls.append(env.acall("POST", f"/dossiers/{dossier}/back", r.owner, json={"version": version}))
        return list(await asyncio.gather(*calls))

    statuses = [x.status_code for x in env.run(burst())]
    assert statuses.count(200) == 1 and statuses.count(409) == len(statuses) - 1, statuses
    assert env.dossier(r.owner, dossier)["version"] == version + 1
    env.audit_ok()


def test_simultaneous_sends_create_the_referrals_once(env: Env) -> None:
    r = receiver_roles(env)
    signed = env.signed(r.owner, units=RECEIVER_UNITS[:3])
    dossier = signed["dossier_id"]
    key = f"same-{uuid.uuid4()}"
    env.clock.sync()

    async def burst() -> list[httpx.Response]:
        same = [env.acall("POST", f"/dossiers/{dossier}/send", who, json={"idempotency_key": key})
                for who in (r.owner, r.sec_send, r.owner, r.owner)]
        other = [env.acall("POST", f"/dossiers/{dossier}/send", r.owner,
                           json={"idempotency_key": f"other-{i}-{uuid.uuid4()}"}) for i in range(2)]
        return list(await asyncio.gather(*same, *other))

    responses = env.run(burst())
    assert [x.status_code for x in responses] == [200] * 6, [x.text[:200] for x in responses]
    bodies = [x.json() for x in responses]
    assert sum(1 for b in bodies if not b["repeated"]) == 1
    ids = {frozenset(x["id"] for x in b["referrals"]) for b in bodies}
    assert len(ids) == 1 and len(next(iter(ids))) == 3
    assert len(env.ok("GET", f"/dossiers/{dossier}/referrals", r.owner)) == 3
    assert len(env.ok("GET", "/inbox", r.recv_unit)) == 3
    env.audit_ok()


def test_simultaneous_acceptances_of_siblings_admit_once(env: Env) -> None:
    r = receiver_roles(env)
    _, refs = env.sent(r.owner, units=RECEIVER_UNITS[:2])
    a, b = refs[0]["id"], refs[1]["id"]
    for referral in (a, b):
        env.bring(referral, "read", r.recv_unit)
    other_receiver = env.user("receiver", "Accueil site 2", units=(refs[1]["unit_id"],))
    body = {"admission_at": (env.clock() + timedelta(hours=4)).isoformat(), "contact": "Poste 8"}

    async def race() -> list[httpx.Response]:
        return list(await asyncio.gather(
            env.acall("POST", f"/inbox/{a}/accept", r.recv_unit, json=body),
            env.acall("POST", f"/inbox/{b}/accept", other_receiver, json=body),
        ))

    responses = env.run(race())
    statuses = sorted(x.status_code for x in responses)
    final = {x["id"]: x["status"] for x in env.ok("GET", "/referrals", r.owner)}
    assert sorted(final[x] for x in (a, b)) == ["accepted", "cancelled"]  # admitted once
    env.audit_ok()
    assert statuses == [200, 409], [x.text[:300] for x in responses]
    loser = next(x for x in responses if x.status_code == 409)
    assert looks_french(detail_of(loser))


# -- bad requests ---------------------------------------------------------------------------------
@dataclass
class Target:
    env: Env
    r: Roles
    draft: str  # a draft dossier of the owner
    sent: str  # a sent dossier of the owner
    referral: str  # one of its referrals, read by the unit

    def snapshot(self) -> dict[str, Any]:
        return self.env.db_state(units=RECEIVER_UNITS[:2])


def make_target(url: str) -> Iterator[Target]:
    env = make_env(url)
    try:
        r = receiver_roles(env)
        draft = env.fill(r.owner, stop_before="patient.commune")["dossier_id"]
        sent, refs = env.sent(r.owner, units=RECEIVER_UNITS[:2])
        env.bring(refs[0]["id"], "read", r.recv_unit)
        yield Target(env, r, draft, sent, refs[0]["id"])
    finally:
        env.close()


@pytest.fixture(scope="module")
def sqlite_target(module_sqlite_url: str) -> Iterator[Target]:
    yield from make_target(module_sqlite_url)


@pytest.fixture(scope="module")
def pg_target(module_pg_url: str) -> Iterator[Target]:
    yield from make_target(module_pg_url)


async def chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"text": "'
    for _ in range(total // 1024):
        yield b"a" * 1024
    yield b'", "version": 1}'


V = -999  # replaced by the draft's current version
JSON = {"content-type": "application/json"}


@dataclass
class Bad:
    id: str
    method: str
    path: str  # {draft}, {sent}, {referral} are filled in
    kwargs: dict[str, Any]
    expected: tuple[int, ...] = (422,)
    who: str = "owner"
    ok_false: bool = False  # a conversational refusal (200, ok false) is also right
    pg: bool = False  # also run on PostgreSQL (the cases where the database may matter)


def _answer(payload: Any = None, **kwargs: Any) -> dict[str, Any]:
    return {"json": payload, **kwargs} if payload is not None else kwargs


BAD: list[Bad] = [
    # wrong types
    Bad("text is a number", "POST", "/dossiers/{draft}/answer", _answer({"text": 123, "version": V}), pg=True),
    Bad("text is a list", "POST", "/dossiers/{draft}/answer", _answer({"text": ["Toulouse"], "version": V})),
    Bad("text is null", "POST", "/dossiers/{draft}/answer", _answer({"text": None, "version": V})),
    Bad("text is an object", "POST", "/dossiers/{draft}/answer", _answer({"text": {"a": 1}, "version": V})),
    Bad("version is a word", "POST", "/dossiers/{draft}/answer", _answer({"text": "Toulouse", "version": "abc"})),
    Bad("version is a fraction", "POST", "/dossiers/{draft}/answer", _answer({"text": "Toulouse", "version": 1.5})),
    Bad("version is null", "POST", "/dossiers/{draft}/answer", _answer({"text": "Toulouse", "version": None})),
    Bad("unit_ids is a string", "PUT", "/dossiers/{sent}/units", _answer({"unit_ids": RECEIVER_UNITS[0]})),
    Bad("reason is a number", "POST", "/inbox/{referral}/refuse", _answer({"reason": 5}), who="recv_unit"),
    Bad("admission is not a date", "POST", "/inbox/{referral}/accept",
        _answer({"admission_at": "demain matin", "contact": "Poste 1"}), who="recv_unit"),
    Bad("availability unknown", "PUT", "/units/" + RECEIVER_UNITS[0] + "/availability",
        _answer({"availability": "plein"}), who="recv_unit"),
    Bad("role unknown", "POST", "/users", _answer({"role": "king", "name": "Louis"}), who="admin"),
    Bad("scope unknown", "POST", "/delegations", _answer({"doctor_rpps": "x", "secretary_id": "y", "scopes": ["sign"],
                                                          "until": "2031-01-01T00:00:00Z"}), who="admin"),
    # unknown and missing fields
    Bad("unknown field", "POST", "/dossiers/{draft}/answer",
        _answer({"text": "Toulouse", "version": V, "force": True})),
    Bad("unknown field on cancel", "POST", "/referrals/{referral}/cancel",
        _answer({"reason": "improved", "status": "accepted"})),
    Bad("missing text", "POST", "/dossiers/{draft}/answer", _answer({"version": V})),
    Bad("missing version", "POST", "/dossiers/{draft}/answer", _answer({"text": "Toulouse"})),
    Bad("empty object", "POST", "/dossiers/{draft}/answer", _answer({})),
    Bad("no body", "POST", "/dossiers/{draft}/answer", {}),
    Bad("missing contact", "POST", "/inbox/{referral}/accept",
        _answer({"admission_at": "2031-01-01T10:00:00Z"}), who="recv_unit"),
    # broken or wrong JSON
    Bad("broken JSON", "POST", "/dossiers/{draft}/answer", {"content": b'{"text": "Toulouse", "version": ',
                                                             "headers": JSON}, pg=True),
    Bad("JSON array", "POST", "/dossiers/{draft}/answer", _answer([{"text": "Toulouse", "version": V}]), pg=True),
    Bad("JSON string", "POST", "/dossiers/{draft}/answer", _answer("Toulouse")),
    Bad("JSON null", "POST", "/dossiers/{draft}/answer", {"content": b"null", "headers": JSON}),
    Bad("not JSON at all", "POST", "/dossiers/{draft}/answer", {"content": b"text=Toulouse&version=1",
        "headers": {"content-type": "application/x-www-form-urlencoded"}}),
    Bad("JSON array on units", "PUT", "/dossiers/{sent}/units", _answer([RECEIVER_UNITS[0]])),
    # sizes
    Bad("body over 64 KiB", "POST", "/dossiers/{draft}/answer",
        _answer({"text": "a" * 70_000, "version": V}), expected=(413,)),
    Bad("body over 64 KiB, streamed", "POST", "/dossiers/{draft}/answer",
        {"content": "stream", "headers": JSON}, expected=(413,)),
    Bad("huge string field", "POST", "/dossiers/{draft}/answer",
        _answer({"text": "a" * 20_000, "version": V}), pg=True),
    Bad("huge question", "POST", "/inbox/{referral}/request-info", _answer({"question": "?" * 20_000}),
        who="recv_unit"),
    Bad("too many units", "PUT", "/dossiers/{sent}/units", _answer({"unit_ids": list(RECEIVER_UNITS[:6])})),
    Bad("no unit", "PUT", "/dossiers/{sent}/units", _answer({"unit_ids": []})),
    Bad("short idempotency key", "POST", "/dossiers/{sent}/send", _answer({"idempotency_key": "abc"})),
    Bad("empty field name", "POST", "/dossiers/{draft}/edit", _answer({"field": "", "version": V})),
    Bad("empty code", "POST", "/dossiers/{draft}/sign", _answer({"code": "", "version": V})),
    # unicode garbage
    Bad("lone surrogate", "POST", "/dossiers/{draft}/answer",
        {"content": b'{"text": "\\ud800\\udfff\\ud800", "version": VERSION}', "headers": JSON}, pg=True),
    Bad("invalid UTF-8", "POST", "/dossiers/{draft}/answer",
        {"content": b'{"text": "\xff\xfe\xc3", "version": VERSION}', "headers": JSON}, expected=(400,)),
    Bad("unicode soup", "POST", "/dossiers/{draft}/answer",
        _answer({"text": "\u202e\u200b\U0001f600\u0301\ufeff\u0000\u2028\u0007\U000e0001\ufffd", "version": V}),
        ok_false=True, pg=True),
    Bad("NUL in a path id", "GET", "/dossiers/a%00b", {}, expected=(400,), pg=True),
    Bad("NUL in a referral id", "POST", "/inbox/a%00b/open", {}, expected=(400,), who="recv_unit", pg=True),
    Bad("NUL in an idempotency key", "POST", "/dossiers/{sent}/send",
        _answer({"idempotency_key": "abc\u0000defghijk"}), pg=True),
    Bad("NUL in a delegation", "POST", "/delegations",
        _answer({"doctor_rpps": "1\u0000", "secretary_id": "x\u0000", "until": "2031-01-01T00:00:00Z"}),
        who="admin", pg=True),
    # negative versions and absurd numbers
    Bad("negative version", "POST", "/dossiers/{draft}/answer", _answer({"text": "Toulouse", "version": -1}), pg=True),
    Bad("negative version on back", "POST", "/dossiers/{draft}/back", _answer({"version": -5})),
    Bad("version far in the future", "POST", "/dossiers/{draft}/answer",
        _answer({"text": "Toulouse", "version": 10**30}), expected=(409, 422), pg=True),
    # absurd query parameters
    Bad("proposals limit 0", "GET", "/dossiers/{sent}/proposals", {"params": {"limit": 0}}),
    Bad("proposals limit huge", "GET", "/dossiers/{sent}/proposals", {"params": {"limit": 10**9}}),
    Bad("proposals limit word", "GET", "/dossiers/{sent}/proposals", {"params": {"limit": "tous"}}),
    Bad("proposals negative offset", "GET", "/dossiers/{sent}/proposals", {"params": {"offset": -1}}),
    Bad("feed after word", "GET", "/feed", {"params": {"after": "début", "wait": 0}}),
    Bad("feed after negative", "GET", "/feed", {"params": {"after": -7, "wait": 0}}),
    Bad("feed after huge", "GET", "/feed", {"params": {"after": 10**30, "wait": 0}}, pg=True),
    Bad("feed wait too long", "GET", "/feed", {"params": {"after": 0, "wait": 3600}}),
    Bad("feed wait negative", "GET", "/feed", {"params": {"after": 0, "wait": -1}}),
    Bad("feed wait not a number", "GET", "/feed", {"params": {"after": 0, "wait": "nan"}}),
    Bad("search without criteria", "GET", "/directory/search", {}),
    Bad("search negative age", "GET", "/directory/search",
        {"params": {"specialty": "cardiologie", "commune": "Toulouse", "age": "-3"}}),
    Bad("search unknown commune", "GET", "/directory/search",
        {"params": {"specialty": "cardiologie", "commune": "Zzyzx-sur-Mer", "age": "80"}}),
    Bad("search unknown specialty", "GET", "/directory/search",
        {"params": {"specialty": "\u2603", "commune": "Toulouse", "age": "80"}}),
    Bad("search limit huge", "GET", "/directory/search",
        {"params": {"specialty": "cardiologie", "commune": "Toulouse", "age": "80", "limit": str(10**30)}}),
    Bad("search limit zero", "GET", "/directory/search",
        {"params": {"specialty": "cardiologie", "commune": "Toulouse", "age": "80", "limit": "0"}}),
    # unknown things
    Bad("unknown dossier", "GET", "/dossiers/" + "a" * 5000, {}, expected=(404,), pg=True),
    Bad("unknown referral", "POST", "/referrals/00000000-0000-0000-0000-000000000000/cancel",
        _answer({"reason": "improved"}), expected=(404,), pg=True),
    Bad("unknown route", "GET", "/nulle-part", {}, expected=(404,)),
    Bad("wrong method", "DELETE", "/dossiers/{draft}", {}, expected=(405,)),
]

# (case id, database) -> what the hub does instead; checked to still hold, then reported as xfail.
# Empty since the hub fixes (NUL characters, feed bound, French 400/404/405, streamed 413).
KNOWN_BAD_INPUT: dict[tuple[str, str], str] = {}


def _request(t: Target, bad: Bad) -> httpx.Response:
    version = t.env.dossier(t.r.owner, t.draft)["version"]
    kwargs = dict(bad.kwargs)
    payload = kwargs.get("json")
    if isinstance(payload, dict):
        kwargs["json"] = {k: (version if v == V else v) for k, v in payload.items()}
    elif isinstance(payload, list):
        kwargs["json"] = [{k: (version if v == V else v) for k, v in x.items()} if isinstance(x, dict) else x
                          for x in payload]
    if kwargs.get("content") == "stream":
        kwargs["content"] = chunks(100 * 1024)
    elif isinstance(kwargs.get("content"), bytes):
        kwargs["content"] = kwargs["content"].replace(b"VERSION", str(version).encode())
    path = bad.path.format(draft=t.draft, sent=t.sent, referral=t.referral)
    return t.env.call(bad.method, path, getattr(t.r, bad.who), **kwargs)


def check_bad_request(target: Target, bad: Bad, database: str) -> None:
    before = target.snapshot()
    response = _request(target, bad)
    status, detail = response.status_code, detail_of(response)
    known = KNOWN_BAD_INPUT.get((bad.id, database))
    if known is not None:
        still = status >= 500 or status not in bad.expected or not looks_french(detail)
        assert still, (f"known bug fixed ({known}): now {status} {response.text[:200]} — "
                       "remove it from KNOWN_BAD_INPUT")
        target.env.audit_ok()
        pytest.xfail(f"product bug: {bad.method} {bad.path} ({bad.id}): {known}")
    assert status < 500, f"server error {status}: {response.text[:300]}"
    if bad.ok_false and status == 200:
        body = response.json()
        assert body["ok"] is False and looks_french(body["message"]), body
    else:
        assert status in bad.expected, f"{status} instead of {bad.expected}: {response.text[:300]}"
        if status >= 400:
            assert looks_french(detail), f"no French detail: {response.text[:300]}"
    assert target.snapshot() == before, "a refused request changed something"
    target.env.audit_ok()


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_request_is_a_french_4xx_and_changes_nothing(sqlite_target: Target, bad: Bad) -> None:
    check_bad_request(sqlite_target, bad, "sqlite")


PG_BAD = [b for b in BAD if b.pg]


@pytest.mark.parametrize("bad", PG_BAD, ids=[b.id for b in PG_BAD])
def test_bad_request_on_postgresql(pg_target: Target, bad: Bad) -> None:
    check_bad_request(pg_target, bad, "postgresql")


def test_nul_in_free_text_of_a_referral_is_refused_cleanly(db_url: str, env_factory: Any) -> None:
    """A unit's question holding a NUL character: refused with a French 422, nothing changes."""
    env: Env = env_factory(db_url)
    r = receiver_roles(env)
    _, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    referral = refs[0]["id"]
    env.bring(referral, "read", r.recv_unit)
    response = env.call("POST", f"/inbox/{referral}/request-info", r.recv_unit, json={"question": "Poids\u0000 ?"})
    assert response.status_code == 422, response.text
    assert looks_french(detail_of(response))
    assert env.referral(r.owner, referral)["status"] == "read"
    env.audit_ok()


def test_french_messages_of_the_framework_errors(sqlite_target: Target) -> None:
    """The hub's own words for what FastAPI/Starlette would answer in English."""
    t = sqlite_target
    unknown = t.env.call("GET", "/nulle-part", t.r.owner)
    assert (unknown.status_code, detail_of(unknown)) == (404, "Adresse inconnue : « /nulle-part »."), unknown.text
    method = t.env.call("DELETE", f"/dossiers/{t.draft}", t.r.owner)
    assert method.status_code == 405, method.text
    assert detail_of(method).startswith(f"Méthode DELETE non permise sur « /dossiers/{t.draft} »"), method.text
    broken = t.env.call("POST", f"/dossiers/{t.draft}/answer", t.r.owner,
                        content=b'{"text": "\xff\xfe", "version": 1}', headers={"content-type": "application/json"})
    assert (broken.status_code, detail_of(broken)) == (
        400, "Corps de requête illisible (JSON ou UTF-8 invalide)."), broken.text
    nul = t.env.call("GET", "/dossiers/a%00b", t.r.owner)
    assert (nul.status_code, detail_of(nul)) == (
        400, "Adresse invalide : caractère de contrôle dans le chemin."), nul.text


def test_an_accepted_answer_comes_back_as_recorded(env: Env) -> None:
    r = receiver_roles(env)
    step = env.fill(r.owner, stop_before="request.specialty")
    dossier = step["dossier_id"]
    options = step["question"]["options"]
    cardiology = next(i for i, (code, _) in enumerate(options, 1) if code == "cardiology")
    chosen = env.ok("POST", f"/dossiers/{dossier}/answer", r.owner,
                    json={"text": str(cardiology), "version": step["version"]})
    assert chosen["ok"] and chosen["recorded"] == "Cardiologie"  # the option, not the number typed
    refused = env.ok("POST", f"/dossiers/{dossier}/answer", r.owner,
                     json={"text": "99", "version": chosen["version"]})
    assert not refused["ok"] and refused["recorded"] is None
