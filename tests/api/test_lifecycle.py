"""The referral lifecycle through the API (spec/lifecycle.md): every transition, legal and illegal;
siblings cancelled when one unit accepts; the unit's inbox order; overdue flags on both sides with
a controlled clock; statistics; the audit chain and its export.

The hub stamps a send with the real time instead of its clock (see
`test_send_uses_the_hub_clock`), so the tests send with the clock set to the real time
(`Env.send`) and place the clock relative to the `sent_at` the hub answered.
"""

from __future__ import annotations

import json
import shutil
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    RECEIVER_UNITS,
    Clock,
    Env,
    Roles,
    User,
    detail_of,
    looks_french,
    make_env,
    receiver_roles,
    utc,
)

STATUS_FR = {"sent": "envoyée", "read": "lue", "accepted": "acceptée", "refused": "refusée",
             "info_requested": "informations demandées", "cancelled": "annulée",
             "admitted": "patient admis", "closed": "clôturée"}
DEADLINE_HOURS = {"today": 2, "within_24h": 4, "within_48h": 12}
REFUSALS = ("no_bed", "out_of_specialty", "needs_emergency", "out_of_area", "incomplete",
            "unsuitable_facilities")
CANCELLATIONS = ("sent_to_emergency", "improved", "admitted_elsewhere", "deceased")


@dataclass
class Shared:
    env: Env
    r: Roles


@pytest.fixture(scope="module")
def shared(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One hub on SQLite (a database of its own) for the tests of the rules; each test uses its
    own dossiers."""
    folder = tmp_path_factory.mktemp("shared")
    shutil.copyfile(sqlite_template, folder / "shared.db")
    env = make_env(f"sqlite:///{folder / 'shared.db'}")
    try:
        yield Shared(env, receiver_roles(env))
    finally:
        env.close()


# -- actions --------------------------------------------------------------------------------------
def act(env: Env, r: Roles, action: str, referral_id: str, **body: Any) -> Any:
    """One referral action, by the side that may do it (the unit, or the requesting doctor)."""
    if action == "open":
        return env.call("POST", f"/inbox/{referral_id}/open", r.recv_unit)
    if action == "accept":
        body = {"admission_at": (env.clock() + timedelta(hours=3)).isoformat(), "contact": "Dr Interne, 4521",
                **body}
        return env.call("POST", f"/inbox/{referral_id}/accept", r.recv_unit, json=body)
    if action == "refuse":
        return env.call("POST", f"/inbox/{referral_id}/refuse", r.recv_unit, json={"reason": "no_bed", **body})
    if action == "request-info":
        return env.call("POST", f"/inbox/{referral_id}/request-info", r.recv_unit,
                        json={"question": "Poids du patient ?", **body})
    if action == "answer-info":
        return env.call("POST", f"/referrals/{referral_id}/answer-info", r.owner,
                        json={"text": "72 kg.", **body})
    if action == "cancel":
        return env.call("POST", f"/referrals/{referral_id}/cancel", r.owner, json={"reason": "improved", **body})
    if action in ("admit", "close"):
        return env.call("POST", f"/inbox/{referral_id}/{action}", r.recv_unit)
    raise AssertionError(action)


ACTIONS = ("open", "accept", "refuse", "request-info", "answer-info", "cancel", "admit", "close")
# (status, action) -> the status after it; every other pair is refused (409). Opening never changes
# anything but a `sent` referral.
LEGAL = {
    ("sent", "open"): "read", ("sent", "cancel"): "cancelled",
    ("read", "open"): "read", ("read", "accept"): "accepted", ("read", "refuse"): "refused",
    ("read", "request-info"): "info_requested", ("read", "cancel"): "cancelled",
    ("info_requested", "open"): "info_requested", ("info_requested", "answer-info"): "read",
    ("info_requested", "cancel"): "cancelled",
    ("accepted", "open"): "accepted", ("refused", "open"): "refused", ("cancelled", "open"): "cancelled",
    ("accepted", "admit"): "admitted", ("admitted", "open"): "admitted", ("admitted", "close"): "closed",
    ("closed", "open"): "closed",
}


# Illegal pairs the hub accepts today (product bugs, each with its own xfail test); none left.
KNOWN_BUGS: set[tuple[str, str]] = set()


def status_of(env: Env, r: Roles, referral_id: str) -> str:
    return str(env.referral(r.owner, referral_id)["status"])


def assert_refused(env: Env, r: Roles, response: Any, referral_id: str, status: str, *,
                   code: int | tuple[int, ...] = 409, names_status: bool = True) -> None:
    codes = code if isinstance(code, tuple) else (code,)
    assert response.status_code in codes, response.text
    detail = detail_of(response)
    assert looks_french(detail), response.text
    if names_status:
        assert f"« {STATUS_FR[status]} »" in detail, detail
    assert status_of(env, r, referral_id) == status


# -- every transition -----------------------------------------------------------------------------
def test_every_referral_transition(env: Env) -> None:
    r = receiver_roles(env)
    units = iter(RECEIVER_UNITS)
    dossier, first = env.sent(r.owner, units=[next(units)])
    audit_before = env.audit_count()

    def fresh(status: str) -> str:
        referral = env.resend(r.owner, dossier, next(units))
        assert referral["status"] == "sent" and referral["read_at"] is None
        if status == "cancelled":
            env.ok("POST", f"/referrals/{referral['id']}/cancel", r.owner, json={"reason": "improved"})
        elif status != "sent":
            env.bring(referral["id"], status, r.recv_unit)
        assert status_of(env, r, referral["id"]) == status
        return str(referral["id"])

    siblings: dict[str, str] = {}  # referral -> status, before the acceptance
    for status in ("sent", "read", "info_requested", "refused", "cancelled"):
        target = fresh(status)
        for action in ACTIONS:
            if (status, action) not in LEGAL and (status, action) not in KNOWN_BUGS:
                assert_refused(env, r, act(env, r, action, target), target, status)
        siblings[target] = status
        for action in ACTIONS:
            after = LEGAL.get((status, action))
            if after is None or action == "accept":
                continue
            one = target if action == "open" else fresh(status)
            response = act(env, r, action, one)
            assert response.status_code == 200, (status, action, response.text)
            shown = response.json()["referral"] if action == "open" else response.json()
            assert shown["status"] == after, (status, action, shown)
            siblings[one] = after
    # read -> accepted, last: every sibling still waiting is cancelled ("admis ailleurs")
    accepted = fresh("read")
    response = act(env, r, "accept", accepted)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    siblings[first[0]["id"]] = "sent"
    views = {x["id"]: x for x in env.ok("GET", f"/dossiers/{dossier}/referrals", r.owner)}
    for referral_id, before in siblings.items():
        if before in ("sent", "read", "info_requested"):
            assert views[referral_id]["status"] == "cancelled", (before, views[referral_id])
            assert views[referral_id]["reason"] == "admitted_elsewhere"
        else:
            assert views[referral_id]["status"] == before
    # after an acceptance: only opening and admitting; after admission: opening and closing; then
    # nothing but opening
    for status, forward in (("accepted", "admit"), ("admitted", "close"), ("closed", None)):
        for action in ACTIONS:
            if action not in ("open", forward):
                assert_refused(env, r, act(env, r, action, accepted), accepted, status)
        opened = act(env, r, "open", accepted)
        assert opened.status_code == 200 and opened.json()["referral"]["status"] == status, opened.text
        if forward is not None:
            response = act(env, r, forward, accepted)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == LEGAL[(status, forward)]
    assert status_of(env, r, accepted) == "closed"
    assert env.audit_count() > audit_before


def test_answer_info_without_a_question_is_refused(shared: Shared) -> None:
    env, r = shared.env, shared.r
    _, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    referral = refs[0]["id"]
    response = act(env, r, "answer-info", referral)
    assert env.referral(r.owner, referral)["read_at"] is None
    assert_refused(env, r, response, referral, "sent")


def test_opening_marks_read_once_and_is_audited(shared: Shared) -> None:
    env, r = shared.env, shared.r
    _, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    referral = refs[0]["id"]
    assert env.referral(r.owner, referral)["status"] == "sent"
    env.clock.advance(minutes=7)
    opened = env.ok("POST", f"/inbox/{referral}/open", r.recv_unit)
    assert opened["referral"]["status"] == "read"
    assert utc(opened["referral"]["read_at"]) == env.clock()
    assert opened["dossier"]["patient.birth_name"] == "MARTIN"
    seen = env.referral(r.owner, referral)
    assert seen["status"] == "read" and seen["read_at"] == opened["referral"]["read_at"]
    env.clock.advance(minutes=5)
    again = env.ok("POST", f"/inbox/{referral}/open", r.recv_unit)
    assert again["referral"]["read_at"] == opened["referral"]["read_at"]  # first reading kept
    export = env.ok("GET", "/audit/export", r.admin).splitlines()
    opened_entries = [json.loads(line) for line in export if '"referral_opened"' in line and referral in line]
    assert len(opened_entries) == 2
    assert all(e["actor"] == r.recv_unit.id and e["role"] == "receiver" for e in opened_entries)
    env.audit_ok()


# -- the unit's answers and the requester's, with their rules -------------------------------------
def test_accept_needs_admission_within_48h_and_a_contact(shared: Shared) -> None:
    env, r = shared.env, shared.r
    _, refs = env.sent(r.owner, units=RECEIVER_UNITS[:2])
    target, sibling = refs[0]["id"], refs[1]["id"]
    env.bring(target, "read", r.recv_unit)
    now = env.clock()
    for admission in (now - timedelta(hours=1), now + timedelta(hours=48, minutes=1), now + timedelta(days=30)):
        response = act(env, r, "accept", target, admission_at=admission.isoformat())
        assert_refused(env, r, response, target, "read", names_status=False)
        assert "48 h" in detail_of(response)
    for contact in ("   ", "\t\n"):
        response = act(env, r, "accept", target, contact=contact)
        assert_refused(env, r, response, target, "read", code=(409, 422), names_status=False)
    for body in ({"contact": ""}, {"admission_at": "demain matin"}, {"admission_at": None}):
        response = act(env, r, "accept", target, **body)
        assert_refused(env, r, response, target, "read", code=422, names_status=False)
    response = env.call("POST", f"/inbox/{target}/accept", r.recv_unit, json={"contact": "Dr X"})
    assert_refused(env, r, response, target, "read", code=422, names_status=False)
    assert status_of(env, r, sibling) == "sent"  # nothing was cancelled by the refused attempts
    admission = now + timedelta(hours=47, minutes=59)
    done = env.ok("POST", f"/inbox/{target}/accept", r.recv_unit,
                  json={"admission_at": admission.isoformat(), "contact": "  Dr Interne, poste 4521  "})
    assert done["status"] == "accepted"
    assert utc(done["admission_at"]) == admission
    assert done["contact"] == "Dr Interne, poste 4521"
    seen = env.referral(r.owner, target)
    assert seen["status"] == "accepted" and seen["contact"] == "Dr Interne, poste 4521"
    assert seen["unit_phone"]  # the requester can call the unit
    cancelled = env.referral(r.owner, sibling)
    assert cancelled["status"] == "cancelled" and cancelled["reason"] == "admitted_elsewhere"
    assert cancelled["reason_text"] == "Admis ailleurs"
    env.audit_ok()


def test_refuse_needs_a_known_reason_and_text_for_other(shared: Shared) -> None:
    env, r = shared.env, shared.r
    dossier, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    target = refs[0]["id"]
    env.bring(target, "read", r.recv_unit)
    for body in ({"reason": "other"}, {"reason": "other", "text": "   "}, {"reason": "other", "text": None},
                 {"reason": "plus_de_place"}, {"reason": ""}):
        response = env.call("POST", f"/inbox/{target}/refuse", r.recv_unit, json=body)
        assert_refused(env, r, response, target, "read", code=(409, 422), names_status=False)
    response = env.call("POST", f"/inbox/{target}/refuse", r.recv_unit, json={"reason": "other"})
    assert "Autre" in detail_of(response)
    response = env.call("POST", f"/inbox/{target}/refuse", r.recv_unit, json={"reason": "plus_de_place"})
    assert "no_bed" in detail_of(response)  # lists the reasons
    response = env.call("POST", f"/inbox/{target}/refuse", r.recv_unit, json={})
    assert_refused(env, r, response, target, "read", code=422, names_status=False)
    done = env.ok("POST", f"/inbox/{target}/refuse", r.recv_unit,
                  json={"reason": "other", "text": "  Travaux dans le service  "})
    assert done["status"] == "refused" and done["reason"] == "other"
    assert done["reason_text"] == "Travaux dans le service"
    # every listed refusal reason is accepted
    for i, reason in enumerate(REFUSALS):
        referral = env.resend(r.owner, dossier, RECEIVER_UNITS[1 + i])
        env.bring(referral["id"], "read", r.recv_unit)
        assert env.ok("POST", f"/inbox/{referral['id']}/refuse", r.recv_unit,
                      json={"reason": reason})["reason"] == reason
    env.audit_ok()


def test_information_request_and_answer_bring_it_back_to_read(shared: Shared) -> None:
    env, r = shared.env, shared.r
    _, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    target = refs[0]["id"]
    env.bring(target, "read", r.recv_unit)
    for question in ("", "   "):
        response = env.call("POST", f"/inbox/{target}/request-info", r.recv_unit, json={"question": question})
        assert_refused(env, r, response, target, "read", code=(409, 422), names_status=False)
    asked = env.ok("POST", f"/inbox/{target}/request-info", r.recv_unit,
                   json={"question": " Dernière créatininémie ? "})
    assert asked["status"] == "info_requested" and asked["question"] == "Dernière créatininémie ?"
    seen = env.referral(r.owner, target)
    assert seen["status"] == "info_requested" and seen["question"] == "Dernière créatininémie ?"
    for text in ("", "  "):
        response = env.call("POST", f"/referrals/{target}/answer-info", r.owner, json={"text": text})
        assert_refused(env, r, response, target, "info_requested", code=(409, 422), names_status=False)
    # the secretary acting for the doctor may answer too
    answered = env.ok("POST", f"/referrals/{target}/answer-info", r.sec_deleg, json={"text": "110 µmol/l hier."})
    assert answered["status"] == "read" and answered["info_answer"] == "110 µmol/l hier."
    inbox = {x["id"]: x for x in env.ok("GET", "/inbox", r.recv_unit)}
    assert inbox[target]["status"] == "read" and inbox[target]["info_answer"] == "110 µmol/l hier."
    # a second answer when nothing is asked is refused with the current status
    assert_refused(env, r, act(env, r, "answer-info", target), target, "read")
    assert env.ok("POST", f"/inbox/{target}/request-info", r.recv_unit,
                  json={"question": "Et le poids ?"})["status"] == "info_requested"
    assert act(env, r, "answer-info", target).json()["status"] == "read"
    assert act(env, r, "accept", target).json()["status"] == "accepted"
    env.audit_ok()


def test_cancel_by_the_requester_with_a_reason(shared: Shared) -> None:
    env, r = shared.env, shared.r
    dossier, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    target = refs[0]["id"]
    for body in ({}, {"reason": "other"}, {"reason": "other", "text": " "}, {"reason": "bored"},
                 {"reason": "improved", "extra": 1}):
        response = env.call("POST", f"/referrals/{target}/cancel", r.owner, json=body)
        assert_refused(env, r, response, target, "sent", code=(409, 422), names_status=False)
    # the unit cannot cancel, nor the other doctor; the secretary of the doctor can
    assert env.call("POST", f"/referrals/{target}/cancel", r.recv_unit, json={"reason": "improved"}).status_code == 403
    assert env.call("POST", f"/referrals/{target}/cancel", r.other_doctor,
                    json={"reason": "improved"}).status_code == 404
    done = env.ok("POST", f"/referrals/{target}/cancel", r.sec_deleg,
                  json={"reason": "other", "text": "La famille préfère attendre"})
    assert done["status"] == "cancelled" and done["reason"] == "other"
    assert done["reason_text"] == "La famille préfère attendre"
    assert {x["id"]: x for x in env.ok("GET", "/inbox", r.recv_unit)}[target]["status"] == "cancelled"
    for i, reason in enumerate(CANCELLATIONS):
        referral = env.resend(r.owner, dossier, RECEIVER_UNITS[1 + i])
        assert env.ok("POST", f"/referrals/{referral['id']}/cancel", r.owner,
                      json={"reason": reason})["reason"] == reason
    env.audit_ok()


def test_accepting_one_cancels_every_sibling_still_waiting(shared: Shared) -> None:
    env, r = shared.env, shared.r
    dossier, refs = env.sent(r.owner, units=RECEIVER_UNITS[:4])
    by_unit = {x["unit_id"]: x["id"] for x in refs}
    waiting_sent, waiting_info, refused, accepted = (by_unit[u] for u in RECEIVER_UNITS[:4])
    env.bring(waiting_info, "info_requested", r.recv_unit)
    env.bring(refused, "refused", r.recv_unit)
    env.bring(accepted, "read", r.recv_unit)
    env.clock.advance(minutes=30)
    feed_from = env.ok("GET", "/feed", r.owner, params={"after": -1})["last"]
    done = env.ok("POST", f"/inbox/{accepted}/accept", r.recv_unit,
                  json={"admission_at": (env.clock() + timedelta(hours=5)).isoformat(), "contact": "Cadre de santé"})
    assert done["status"] == "accepted"
    views = {x["id"]: x for x in env.ok("GET", "/referrals", r.owner)}
    for sibling in (waiting_sent, waiting_info):
        assert views[sibling]["status"] == "cancelled"
        assert views[sibling]["reason"] == "admitted_elsewhere" and views[sibling]["reason_text"] == "Admis ailleurs"
        assert views[sibling]["overdue"] is False
    assert views[refused]["status"] == "refused" and views[refused]["reason"] == "no_bed"
    events = env.ok("GET", "/feed", r.owner, params={"after": feed_from, "wait": 0})["events"]
    assert {(e["referral_id"], e["status"]) for e in events} >= {
        (accepted, "accepted"), (waiting_sent, "cancelled"), (waiting_info, "cancelled")}
    export = [json.loads(x) for x in env.ok("GET", "/audit/export", r.admin).splitlines()]
    cancelled = [e for e in export if e["event"] == "referral_cancelled" and e["dossier_id"] == dossier]
    assert len(cancelled) == 2 and all("admis ailleurs" in e["detail"] for e in cancelled)
    env.audit_ok()


@pytest.mark.parametrize("status", ["accepted", "admitted", "closed"])
def test_no_new_referral_after_an_acceptance(shared: Shared, status: str) -> None:
    env, r = shared.env, shared.r
    dossier, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    env.bring(refs[0]["id"], status, r.recv_unit)
    # refused as soon as the unit is chosen (before, only at the send)
    chosen = env.call("PUT", f"/dossiers/{dossier}/units", r.owner, json={"unit_ids": [RECEIVER_UNITS[5]]})
    assert chosen.status_code == 409 and looks_french(detail_of(chosen)), chosen.text
    env.clock.sync()
    response = env.call("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": f"k-{uuid.uuid4()}"})
    assert response.status_code == 409, response.text
    assert looks_french(detail_of(response)), response.text
    statuses = sorted(x["status"] for x in env.ok("GET", f"/dossiers/{dossier}/referrals", r.owner))
    assert statuses == [status], statuses


# -- inbox order and overdue flags ------------------------------------------------------------------
@dataclass
class Timings:
    env: Env
    r: Roles
    receiver: User  # bound to the two units only
    refs: dict[str, dict[str, Any]]  # "today@1" -> referral as sent
    dossiers: dict[str, str]


@pytest.fixture(scope="module")
def timings(module_db_url: str) -> Iterator[Timings]:
    """Three dossiers (today, within_24h, within_48h), each sent to unit 1, then each to unit 2,
    in the order 48h, today, 24h (so that arrival order and urgency differ)."""
    env = make_env(module_db_url)
    try:
        r = receiver_roles(env)
        u1, u2 = RECEIVER_UNITS[0], RECEIVER_UNITS[1]
        receiver = env.user("receiver", "Accueil des deux unités", units=(u1, u2))
        order = ("within_48h", "today", "within_24h")
        signed = {t: env.signed(r.owner, units=[u1], timing=t)["dossier_id"] for t in order}
        refs: dict[str, dict[str, Any]] = {}
        for timing in order:
            refs[f"{timing}@1"] = env.send(r.owner, signed[timing])[0]
        for timing in order:
            refs[f"{timing}@2"] = env.resend(r.owner, signed[timing], u2)
        yield Timings(env, r, receiver, refs, signed)
    finally:
        env.close()


def test_inbox_most_urgent_first_then_oldest_first(timings: Timings) -> None:
    env, refs = timings.env, timings.refs
    inbox = env.ok("GET", "/inbox", timings.receiver)
    expected = ["today@1", "today@2", "within_24h@1", "within_24h@2", "within_48h@1", "within_48h@2"]
    names = {v["id"]: k for k, v in refs.items()}
    assert [names.get(x["id"], x["id"]) for x in inbox] == expected
    assert [x["timing"] for x in inbox] == [k.split("@")[0] for k in expected]
    sent = [utc(x["sent_at"]) for x in inbox]
    assert sent[0] < sent[1] and sent[2] < sent[3] and sent[4] < sent[5]
    # the arrival order was different: 48h first
    assert utc(refs["within_48h@1"]["sent_at"]) < utc(refs["today@1"]["sent_at"])
    # the receiver of every unit (recv_unit) has the same referrals in the same relative order
    wider = [x["id"] for x in env.ok("GET", "/inbox", timings.r.recv_unit) if x["id"] in names]
    assert [names[x] for x in wider] == expected


def test_overdue_on_both_sides_with_the_clock(timings: Timings) -> None:
    env, r, refs, receiver = timings.env, timings.r, timings.refs, timings.receiver
    start = env.clock.now
    try:
        deadlines = {}
        for key, ref in refs.items():
            timing = key.split("@")[0]
            assert ref["timing"] == timing
            deadline = utc(ref["deadline_at"])
            assert deadline - utc(ref["sent_at"]) == timedelta(hours=DEADLINE_HOURS[timing]), key
            deadlines[key] = deadline

        def flags() -> tuple[dict[str, bool], dict[str, bool]]:
            names = {v["id"]: k for k, v in refs.items()}
            mine = {names[x["id"]]: x["overdue"] for x in env.ok("GET", "/referrals", r.owner) if x["id"] in names}
            unit = {names[x["id"]]: x["overdue"] for x in env.ok("GET", "/inbox", receiver)}
            assert set(mine) == set(unit) == set(refs)
            return mine, unit

        def check(overdue: set[str]) -> None:
            mine, unit = flags()
            assert {k for k, v in mine.items() if v} == overdue, ("requester", env.clock())
            assert {k for k, v in unit.items() if v} == overdue, ("unit", env.clock())
            for dossier in timings.dossiers.values():
                for x in env.ok("GET", f"/dossiers/{dossier}/referrals", r.owner):
                    key = next(k for k, v in refs.items() if v["id"] == x["id"])
                    assert x["overdue"] is (key in overdue)
            assert env.ok("GET", "/stats", r.owner)["overdue"] == len(overdue)
            assert env.ok("GET", "/stats", receiver)["overdue"] == len(overdue)

        # the unit reads one "today" referral: read ones are overdue too
        env.ok("POST", f"/inbox/{refs['today@1']['id']}/open", receiver)
        env.clock.now = min(deadlines.values()) - timedelta(minutes=1)
        check(set())
        env.clock.now = deadlines["today@2"] + timedelta(minutes=1)  # 2 h after the later "today"
        check({"today@1", "today@2"})
        waiting = env.referral(r.owner, refs["today@2"]["id"])["waiting_minutes"]
        expected_wait = (env.clock() - utc(refs["today@2"]["sent_at"])).total_seconds() / 60
        assert abs(waiting - expected_wait) <= 0.1
        # an answered one is not overdue any more (refused, or information requested)
        env.ok("POST", f"/inbox/{refs['today@1']['id']}/refuse", receiver, json={"reason": "no_bed"})
        check({"today@2"})
        env.clock.now = deadlines["within_24h@2"] + timedelta(minutes=1)
        check({"today@2", "within_24h@1", "within_24h@2"})
        env.ok("POST", f"/inbox/{refs['within_24h@1']['id']}/open", receiver)
        env.ok("POST", f"/inbox/{refs['within_24h@1']['id']}/request-info", receiver, json={"question": "Poids ?"})
        check({"today@2", "within_24h@2"})
        env.clock.now = deadlines["within_48h@2"] - timedelta(minutes=1)
        check({"today@2", "within_24h@2"})
        env.clock.now = deadlines["within_48h@2"] + timedelta(minutes=1)
        check({"today@2", "within_24h@2", "within_48h@1", "within_48h@2"})
        # accepted, and its sibling cancelled: neither is overdue
        env.ok("POST", f"/inbox/{refs['within_48h@1']['id']}/open", receiver)
        env.ok("POST", f"/inbox/{refs['within_48h@1']['id']}/accept", receiver,
               json={"admission_at": (env.clock() + timedelta(hours=1)).isoformat(), "contact": "Poste 12"})
        check({"today@2", "within_24h@2"})
        # the requester is offered to call the unit: its phone comes with the referral
        assert env.referral(r.owner, refs["today@2"]["id"])["unit_phone"]
        # the requester cancels: no longer overdue
        env.ok("POST", f"/referrals/{refs['today@2']['id']}/cancel", r.owner, json={"reason": "sent_to_emergency"})
        check({"within_24h@2"})
        env.audit_ok()
    finally:
        env.clock.now = start


# -- statistics -------------------------------------------------------------------------------------
def test_statistics_response_times_counts_and_overdue(env: Env) -> None:
    r = receiver_roles(env)
    u1, u2, u3 = RECEIVER_UNITS[:3]
    a = env.signed(r.owner, units=[u1, u2, u3])["dossier_id"]
    b = env.signed(r.owner, units=[u1, u2])["dossier_id"]
    sent_a = {x["unit_id"]: x for x in env.send(r.owner, a)}
    sent_b = {x["unit_id"]: x for x in env.send(r.owner, b)}

    def at(ref: dict[str, Any], minutes: float) -> None:
        env.clock.now = utc(ref["sent_at"]) + timedelta(minutes=minutes)

    def unit(action: str, ref: dict[str, Any], **body: Any) -> None:
        path = {"open": "open", "refuse": "refuse", "info": "request-info", "accept": "accept"}[action]
        if action == "accept":
            body = {"admission_at": (env.clock() + timedelta(hours=2)).isoformat(), "contact": "Poste 1"}
        elif action == "refuse":
            body = {"reason": "no_bed"}
        elif action == "info":
            body = {"question": "Poids ?"}
        env.ok("POST", f"/inbox/{ref['id']}/{path}", r.recv_unit, json=body if action != "open" else None)

    # unit 1: refuses a after 10 min (opened at 5: opening is not an answer), b after 30 min
    at(sent_a[u1], 5)
    unit("open", sent_a[u1])
    at(sent_a[u1], 10)
    unit("refuse", sent_a[u1])
    at(sent_b[u1], 12)
    unit("open", sent_b[u1])
    at(sent_b[u1], 30)
    unit("refuse", sent_b[u1])
    # unit 2: asks about a after 20 min (the first answer counts), refuses it after 60 min;
    # accepts b after 50 min. Unit 3 never answers a.
    at(sent_a[u2], 15)
    unit("open", sent_a[u2])
    at(sent_a[u2], 20)
    unit("info", sent_a[u2])
    at(sent_a[u2], 25)
    env.ok("POST", f"/referrals/{sent_a[u2]['id']}/answer-info", r.owner, json={"text": "72 kg"})
    at(sent_a[u2], 60)
    unit("refuse", sent_a[u2])
    at(sent_b[u2], 40)
    unit("open", sent_b[u2])
    at(sent_b[u2], 50)
    unit("accept", sent_b[u2])

    stats = env.ok("GET", "/stats", r.owner)
    tolerance = 0.01

    def close(value: float | None, expected: float) -> bool:
        return value is not None and abs(value - expected) <= tolerance

    expected_units = {u1: [10, 30], u2: [20, 50]}
    assert set(stats["by_unit"]) == set(expected_units)
    for unit_id, minutes in expected_units.items():
        got = stats["by_unit"][unit_id]
        assert got["count"] == len(minutes)
        assert close(got["median_minutes"], statistics.median(minutes)), got
        assert statistics.median(minutes) - tolerance <= got["p90_minutes"] <= max(minutes) + tolerance, got
    overall = stats["overall"]
    assert overall["count"] == 4
    assert close(overall["median_minutes"], 25), overall
    assert 30 - tolerance <= overall["p90_minutes"] <= 50 + tolerance, overall
    assert stats["by_status"] == {"refused": 3, "accepted": 1, "sent": 1}
    assert stats["overdue"] == 0
    # the unit's view: the same, its referrals only; another doctor sees nothing; the admin all
    assert env.ok("GET", "/stats", r.recv_unit)["by_status"] == stats["by_status"]
    assert env.ok("GET", "/stats", r.recv_other)["by_status"] == {}
    other = env.ok("GET", "/stats", r.other_doctor)
    assert other["by_status"] == {} and other["overall"]["count"] == 0 and other["overall"]["median_minutes"] is None
    assert env.ok("GET", "/stats", r.admin)["by_status"] == stats["by_status"]
    # the one unit 3 never answered, past its deadline: counted as overdue, not in the times
    env.clock.now = utc(sent_a[u3]["deadline_at"]) + timedelta(minutes=1)
    stats = env.ok("GET", "/stats", r.owner)
    assert stats["overdue"] == 1 and stats["by_status"]["sent"] == 1
    assert stats["overall"]["count"] == 4 and env.ok("GET", "/stats", r.recv_unit)["overdue"] == 1
    env.audit_ok()


# -- sending -----------------------------------------------------------------------------------------
def test_sending_rules(shared: Shared) -> None:
    env, r = shared.env, shared.r
    step = env.fill(r.owner)
    dossier = step["dossier_id"]
    env.ok("PUT", f"/dossiers/{dossier}/units", r.owner, json={"unit_ids": list(RECEIVER_UNITS[:2])})
    # not signed: refused, for the doctor and for the secretary with `send`
    for who in (r.owner, r.sec_send):
        response = env.call("POST", f"/dossiers/{dossier}/send", who, json={"idempotency_key": f"k-{uuid.uuid4()}"})
        assert response.status_code == 409 and "signé" in detail_of(response), response.text
    wrong = env.ok("POST", f"/dossiers/{dossier}/sign", r.owner, json={"code": "0000", "version": step["version"]})
    assert wrong["ok"] is False and wrong["status"] == "ready" and looks_french(wrong["message"])
    signed = env.ok("POST", f"/dossiers/{dossier}/sign", r.owner, json={"code": "4321", "version": step["version"]})
    assert signed["ok"] and signed["status"] == "signed"
    key = f"secretary-{uuid.uuid4()}"
    env.clock.sync()
    first = env.ok("POST", f"/dossiers/{dossier}/send", r.sec_send, json={"idempotency_key": key})
    assert first["repeated"] is False and len(first["referrals"]) == 2
    again = env.ok("POST", f"/dossiers/{dossier}/send", r.sec_send, json={"idempotency_key": key})
    assert again["repeated"] is True
    assert [x["id"] for x in again["referrals"]] == [x["id"] for x in first["referrals"]]
    other_key = env.ok("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": f"k-{uuid.uuid4()}"})
    assert other_key["repeated"] is True
    assert {x["id"] for x in other_key["referrals"]} == {x["id"] for x in first["referrals"]}
    assert len(env.ok("GET", f"/dossiers/{dossier}/referrals", r.owner)) == 2
    assert env.dossier(r.owner, dossier)["status"] == "sent"
    # the same key for another dossier is refused
    other = env.signed(r.owner, units=RECEIVER_UNITS[2:3])["dossier_id"]
    response = env.call("POST", f"/dossiers/{other}/send", r.owner, json={"idempotency_key": key})
    assert response.status_code == 409 and looks_french(detail_of(response))
    assert env.ok("GET", f"/dossiers/{other}/referrals", r.owner) == []
    # a sent dossier is read-only
    version = env.dossier(r.owner, dossier)["version"]
    refused = env.ok("POST", f"/dossiers/{dossier}/edit", r.owner, json={"field": "patient.sex", "version": version})
    assert refused["ok"] is False and "envoyé" in refused["message"]
    env.audit_ok()


def test_a_change_after_signing_removes_the_signature(shared: Shared) -> None:
    env, r = shared.env, shared.r
    signed = env.signed(r.owner, units=RECEIVER_UNITS[:1])
    dossier, version = signed["dossier_id"], signed["version"]
    step = env.ok("POST", f"/dossiers/{dossier}/edit", r.owner,
                  json={"field": "requester.callback_phone", "version": version})
    assert step["ok"] and step["question"]["field"] == "requester.callback_phone"
    step = env.ok("POST", f"/dossiers/{dossier}/answer", r.owner,
                  json={"text": "05 61 00 00 01", "version": step["version"]})
    assert step["ok"] and step["status"] == "ready"
    assert env.dossier(r.owner, dossier)["signed"] is False
    response = env.call("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": f"k-{uuid.uuid4()}"})
    assert response.status_code == 409 and looks_french(detail_of(response))
    assert env.ok("GET", f"/dossiers/{dossier}/referrals", r.owner) == []


def test_a_blocked_dossier_is_never_signed_nor_sent(shared: Shared) -> None:
    env, r = shared.env, shared.r
    step = env.ok("POST", "/dossiers", r.owner, json={}, status=201)
    assert step["question"]["field"] == "request.red_flags"
    step = env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", r.owner,
                  json={"text": "détresse respiratoire", "version": step["version"]})
    assert step["status"] == "blocked" and "15" in step["blocked_reason"]
    dossier = step["dossier_id"]
    signed = env.ok("POST", f"/dossiers/{dossier}/sign", r.owner, json={"code": "4321", "version": step["version"]})
    assert signed["ok"] is False and signed["status"] == "blocked"
    response = env.call("PUT", f"/dossiers/{dossier}/units", r.owner, json={"unit_ids": [RECEIVER_UNITS[0]]})
    assert response.status_code == 409 and looks_french(detail_of(response))
    response = env.call("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": f"k-{uuid.uuid4()}"})
    assert response.status_code == 409 and "bloqué" in detail_of(response)
    proposals = env.ok("GET", f"/dossiers/{dossier}/proposals", r.owner)
    assert proposals["proposals"] == [] and "15" in proposals["message"]


# -- audit ------------------------------------------------------------------------------------------
def export(env: Env) -> list[dict[str, Any]]:
    response = env.call("GET", "/audit/export", env.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_every_action_is_audited_and_the_chain_verifies(shared: Shared) -> None:
    env, r = shared.env, shared.r
    signed = env.signed(r.owner, units=RECEIVER_UNITS[:3])
    dossier = signed["dossier_id"]
    events = {e["event"] for e in export(env) if e["dossier_id"] == dossier}
    assert {"question_asked", "units_chosen"} <= events
    assert any(e.startswith("answer") for e in events), events
    assert any("sign" in e for e in events), events

    def step(description: str, run: Any, event: str) -> None:
        before = env.audit_count()
        run()
        entries = export(env)
        new = [e for e in entries if e["seq"] > before and e["event"] != "audit_exported"]
        assert any(e["event"] == event for e in new), (description, [e["event"] for e in new])
        for e in new:
            assert e["at"] and e["actor"] and e["role"], e
        env.audit_ok()

    refs: list[dict[str, Any]] = []
    step("send", lambda: refs.extend(env.send(r.owner, dossier)), "sent")
    a, b, c = (x["id"] for x in refs)
    step("open", lambda: env.ok("POST", f"/inbox/{a}/open", r.recv_unit), "referral_opened")
    step("refuse", lambda: env.ok("POST", f"/inbox/{a}/refuse", r.recv_unit, json={"reason": "no_bed"}),
         "referral_refused")
    env.ok("POST", f"/inbox/{b}/open", r.recv_unit)
    step("request info", lambda: env.ok("POST", f"/inbox/{b}/request-info", r.recv_unit,
                                        json={"question": "Poids ?"}), "referral_info_requested")
    step("answer info", lambda: env.ok("POST", f"/referrals/{b}/answer-info", r.owner, json={"text": "72 kg"}),
         "referral_info_answered")
    step("cancel", lambda: env.ok("POST", f"/referrals/{c}/cancel", r.owner, json={"reason": "improved"}),
         "referral_cancelled")
    step("accept", lambda: env.ok("POST", f"/inbox/{b}/accept", r.recv_unit, json={
        "admission_at": (env.clock() + timedelta(hours=1)).isoformat(), "contact": "Poste 3"}), "referral_accepted")
    step("availability", lambda: env.ok("PUT", f"/units/{RECEIVER_UNITS[0]}/availability", r.recv_unit,
                                        json={"availability": "full"}), "availability_declared")
    step("read", lambda: env.dossier(r.sec_deleg, dossier), "dossier_read")
    # a refused action is not a status change: the chain still verifies, nothing new changed
    before = [e for e in export(env) if e["event"].startswith("referral_")]
    assert env.call("POST", f"/inbox/{a}/accept", r.recv_unit, json={
        "admission_at": env.clock().isoformat(), "contact": "x"}).status_code == 409
    after = [e for e in export(env) if e["event"].startswith("referral_")]
    assert after == before
    env.audit_ok()


def test_audit_export_is_json_lines_without_answer_values(shared: Shared) -> None:
    env, r = shared.env, shared.r
    dossier, refs = env.sent(r.owner, units=RECEIVER_UNITS[:1])
    env.bring(refs[0]["id"], "read", r.recv_unit)
    answers = env.dossier(r.owner, dossier)["answers"]
    response = env.call("GET", "/audit/export", r.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = response.text.splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries and [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    keys = set(entries[0])
    assert {"seq", "at", "actor", "role", "dossier_id", "field_id", "event", "value_hash", "prev_hash",
            "hash"} <= keys
    assert not {"value", "answer", "value_json", "text"} & keys
    answered = [e for e in entries if e["field_id"] and e["value_hash"]]
    assert answered, "answer entries carry a hash of the value"
    secret_values = [answers[k] for k in (
        "patient.birth_name", "patient.first_names", "patient.birth_date", "requester.callback_phone",
        "requester.mssante", "medical.reason", "medical.diagnosis", "medical.history", "medical.treatments")]
    secret_values += ["Martin", "31/02/1938", "12/03/1938", "Furosémide", "Décompensation", "05 61 00 00 00"]
    for value in secret_values:
        assert isinstance(value, str) and len(value) >= 4
        assert value not in response.text, f"answer value {value!r} found in the audit export"
    # the export itself is audited; the chain verifies
    assert export(env)[-1]["event"] == "audit_exported"
    verdict = env.audit_ok()
    assert verdict["entries"] >= len(entries)


# -- the hub's clock ----------------------------------------------------------------------------------
def test_send_uses_the_hub_clock(sqlite_url: str) -> None:
    env = Env(sqlite_url, clock=Clock(start=Clock().now - timedelta(days=3)))
    try:
        r = receiver_roles(env)
        signed = env.signed(r.owner, units=RECEIVER_UNITS[:1])
        body = env.ok("POST", f"/dossiers/{signed['dossier_id']}/send", r.owner,
                      json={"idempotency_key": f"k-{uuid.uuid4()}"})
        referral = body["referrals"][0]
        assert referral["waiting_minutes"] >= 0
        assert utc(referral["sent_at"]) == env.clock()
    finally:
        env.close()


def test_audit_times_follow_the_hub_clock(sqlite_url: str) -> None:
    env = Env(sqlite_url, clock=Clock(start=Clock().now - timedelta(days=3)))
    try:
        doctor = env.user("doctor")
        step = env.ok("POST", "/dossiers", doctor, json={}, status=201)
        entries = [e for e in export(env) if e["dossier_id"] == step["dossier_id"]]
        assert entries and all(utc(e["at"]) == env.clock() for e in entries), [e["at"] for e in entries]
    finally:
        env.close()
