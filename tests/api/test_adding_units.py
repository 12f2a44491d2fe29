"""Sending a sent dossier to more units (spec/lifecycle.md: "sent: read-only, except for
cancelling referrals or sending to another unit, which needs the signature still valid"):
only the new units get a referral, exactly once under each idempotency key, audited, by the
doctor or a secretary with the scope `send`; never after a unit has accepted."""

from __future__ import annotations

import json
import uuid

from api_helpers import (
    RECEIVER_UNITS,
    Env,
    Roles,
    detail_of,
    looks_french,
    receiver_roles,
)


def sent_events(env: Env, dossier_id: str) -> list[dict[str, str]]:
    lines = env.ok("GET", "/audit/export", env.admin).splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == "sent" and e["dossier_id"] == dossier_id]


def test_a_sent_dossier_goes_to_added_units_only_once(env: Env) -> None:
    r: Roles = receiver_roles(env)
    dossier, first = env.sent(r.owner, units=RECEIVER_UNITS[:2])
    signed_at = env.dossier(r.owner, dossier)["signed_at"]
    view = env.dossier(r.owner, dossier)
    assert view["sent_units"] == list(RECEIVER_UNITS[:2])
    assert view["may_send"] is True and view["may_sign"] is True

    # the doctor ticks one more unit (the units already sent to stay chosen, ticked or not)
    chosen = env.ok("PUT", f"/dossiers/{dossier}/units", r.owner,
                    json={"unit_ids": [RECEIVER_UNITS[0], RECEIVER_UNITS[2]]})["unit_ids"]
    assert chosen == [*RECEIVER_UNITS[:2], RECEIVER_UNITS[2]]
    key = f"added-{uuid.uuid4()}"
    env.clock.sync()
    added = env.ok("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": key})
    assert added["repeated"] is False and added["unsent_units"] == []
    assert [x["unit_id"] for x in added["referrals"]] == [RECEIVER_UNITS[2]]
    # the same key again (a lost reply): the same referral, nothing new
    again = env.ok("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": key})
    assert again["repeated"] is True and [x["id"] for x in again["referrals"]] == [added["referrals"][0]["id"]]
    # another key with nothing new: the referrals of the chosen units, never a copy
    other = env.ok("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": f"k-{uuid.uuid4()}"})
    assert other["repeated"] is True
    referrals = env.ok("GET", f"/dossiers/{dossier}/referrals", r.owner)
    assert sorted(x["unit_id"] for x in referrals) == sorted(RECEIVER_UNITS[:3])
    assert {x["id"] for x in first} < {x["id"] for x in referrals}

    # the signature is the same one: the answers did not change
    view = env.dossier(r.owner, dossier)
    assert view["status"] == "sent" and view["signed_at"] == signed_at
    assert view["sent_units"] == list(RECEIVER_UNITS[:3])

    # a secretary with the scope `send` adds a unit too; without it she may not
    env.ok("PUT", f"/dossiers/{dossier}/units", r.sec_send, json={"unit_ids": [RECEIVER_UNITS[3]]})
    assert env.dossier(r.sec_send, dossier)["may_send"] is True
    assert env.dossier(r.sec_deleg, dossier)["may_send"] is False
    refused = env.call("POST", f"/dossiers/{dossier}/send", r.sec_deleg,
                       json={"idempotency_key": f"k-{uuid.uuid4()}"})
    assert refused.status_code == 403 and looks_french(detail_of(refused))
    by_secretary = env.ok("POST", f"/dossiers/{dossier}/send", r.sec_send,
                          json={"idempotency_key": f"k-{uuid.uuid4()}"})
    assert [x["unit_id"] for x in by_secretary["referrals"]] == [RECEIVER_UNITS[3]]

    # audited: one "sent" entry per send that created referrals, the additions named as such
    events = sent_events(env, dossier)
    assert len(events) == 3, events
    assert all("ajoutées" in e["detail"] for e in events[1:]) and "ajoutées" not in events[0]["detail"]
    assert events[2]["actor"] == r.sec_send.id
    # the new unit's inbox has it
    assert RECEIVER_UNITS[2] in {x["unit_id"] for x in env.ok("GET", "/inbox", r.recv_unit)}
    env.audit_ok()


def test_a_replayed_first_key_names_the_units_added_since(sqlite_env: Env) -> None:
    """The reply of the first send was lost; meanwhile a unit was added: the replayed key returns
    the first send's referrals and names the added unit as still unsent."""
    env = sqlite_env
    r = receiver_roles(env)
    signed = env.signed(r.owner, units=RECEIVER_UNITS[:1])
    dossier, key = signed["dossier_id"], f"first-{uuid.uuid4()}"
    env.clock.sync()
    first = env.ok("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": key})
    env.ok("PUT", f"/dossiers/{dossier}/units", r.owner, json={"unit_ids": [RECEIVER_UNITS[1]]})
    replayed = env.ok("POST", f"/dossiers/{dossier}/send", r.owner, json={"idempotency_key": key})
    assert replayed["repeated"] is True
    assert [x["id"] for x in replayed["referrals"]] == [x["id"] for x in first["referrals"]]
    assert replayed["unsent_units"] == [RECEIVER_UNITS[1]]


def test_no_unit_is_added_once_one_has_accepted(sqlite_env: Env) -> None:
    env = sqlite_env
    r = receiver_roles(env)
    dossier, refs = env.sent(r.owner, units=RECEIVER_UNITS[:2])
    env.bring(refs[0]["id"], "accepted", r.recv_unit)
    before = env.dossier(r.owner, dossier)["chosen_units"]
    response = env.call("PUT", f"/dossiers/{dossier}/units", r.owner, json={"unit_ids": [RECEIVER_UNITS[4]]})
    assert response.status_code == 409, response.text
    assert detail_of(response) == "Une unité a déjà accepté ce patient : pas d'envoi à une autre unité."
    assert env.dossier(r.owner, dossier)["chosen_units"] == before


def test_a_resumed_dossier_comes_with_its_progress(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    step = env.fill(doctor, stop_before="patient.commune")
    view = env.dossier(doctor, step["dossier_id"])
    assert view["progress"] and view["progress"] == step["progress"]
    assert view["sent_units"] == [] and view["may_sign"] is True
