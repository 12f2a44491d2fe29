"""Who may call what: every endpoint of the hub × every role (spec/hnp-dossier.md "Who does what",
spec/lifecycle.md "What every side sees").

The matrix must cover every route of the app: a new endpoint without a row makes
`test_matrix_covers_every_route` fail. Each row gives the expected status per caller; the callers are
the owner doctor, another doctor, secretaries of the owner (fill_admin; + read_medical; + send), a
secretary without delegation, a receiver of the chosen units, a receiver of other units, the admin,
and no token, an expired token and a revoked token.

Rows that act (accept, cancel...) get a fresh target for each caller allowed to act, so that every
cell is checked against a target in the right state.

Cells where the hub differs from the contract are listed in KNOWN_DEVIATIONS with what it answers
today: the test checks that they still answer that (so a fix shows up as a failure asking to move
the cell back to the matrix), and the report lists them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from api_helpers import (
    OTHER_UNITS,
    RECEIVER_UNITS,
    Env,
    Roles,
    User,
    detail_of,
    looks_french,
    make_env,
    make_roles,
    receiver_roles,
)

from orient.assistant import accounts_admin
from orient.assistant.importing import example_bundle

REQUESTERS = ("owner", "sec_deleg", "sec_medical", "sec_send")  # act for the owner's dossiers
STRANGERS = ("other_doctor", "sec_none")  # doctor/secretary who must not even see them
FILLERS = REQUESTERS + STRANGERS
RECEIVERS = ("recv_unit", "recv_other")
USERS = FILLERS + RECEIVERS + ("admin",)
BAD_TOKENS = ("no_token", "expired", "revoked")
COLUMNS = USERS + BAD_TOKENS
PUBLIC = {("GET", "/health"), ("GET", "/version"), ("GET", "/openapi.json"),
          # Pro Santé Connect: a person signing in has no token yet (tests/api/test_psc_signin.py)
          ("GET", "/auth/psc"), ("POST", "/auth/psc/start"), ("POST", "/auth/psc/poll"),
          ("GET", "/auth/psc/callback")}


# -- the world the matrix runs in -------------------------------------------------------------------
@dataclass
class World:
    env: Env
    r: Roles
    d1: str  # the owner's dossier, complete (medical section too), signed and sent
    d1_refs: list[dict[str, Any]]
    d0: str  # the owner's dossier still in draft
    d2: str  # another sent dossier of the owner, for acceptances (they cancel siblings)
    spare_secretary: User
    expired: str
    revoked: str
    units: Iterator[str] = field(default_factory=lambda: iter(RECEIVER_UNITS[3:]))

    def who(self, column: str) -> User | str | None:
        if column == "no_token":
            return None
        if column == "expired":
            return self.expired
        if column == "revoked":
            return self.revoked
        return getattr(self.r, column)  # type: ignore[no-any-return]

    def version(self, dossier_id: str) -> int:
        return int(self.env.dossier(self.r.owner, dossier_id)["version"])

    def fresh_referral(self, status: str = "sent", dossier: str | None = None) -> str:
        """A new referral of d1 (or `dossier`) to a unit of recv_unit, brought to `status`."""
        env, r = self.env, self.r
        dossier = dossier or self.d1
        referral = env.resend(r.owner, dossier, next(self.units))
        if status != "sent":
            env.bring(referral["id"], status, r.recv_unit)
        return str(referral["id"])


def build_world(env: Env) -> World:
    r = receiver_roles(env)
    d1, refs = env.sent(r.owner, units=RECEIVER_UNITS[:3])
    d2, _ = env.sent(r.owner, units=RECEIVER_UNITS[:1], timing="today")
    d0 = env.fill(r.owner, stop_before="patient.commune")["dossier_id"]
    spare = env.user("secretary", "Secrétaire de réserve")
    # an expired token: issued 30 days and a minute ago with the default 30-day lifetime
    _, expired = env.new_token(r.owner, now=env.clock() - timedelta(days=30, minutes=1))
    revoked_id, revoked = env.new_token(r.owner)
    env.ok("DELETE", f"/tokens/{revoked_id}", revoked)  # revoked by its own holder
    return World(env, r, d1, refs, d0, d2, spare, expired, revoked)


@pytest.fixture(scope="module")
def world(module_db_url: str) -> Iterator[World]:
    env = make_env(module_db_url)
    try:
        yield build_world(env)
    finally:
        env.close()


# -- rows ---------------------------------------------------------------------------------------------
Prepare = Callable[[World, str], dict[str, Any]]


@dataclass
class Row:
    method: str
    path: str
    expected: dict[str, int]
    prepare: Prepare = lambda w, c: {}
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}{' ' + self.name if self.name else ''}"


def expect(ok: tuple[str, ...] = (), *, ok_status: int = 200, hidden: tuple[str, ...] = (),
           forbidden: int = 403, **special: int) -> dict[str, int]:
    """Expected status per column: `ok` columns succeed, `hidden` ones get 404 (existence must not
    leak), every other user 403, and the bad tokens 401."""
    out = {c: forbidden for c in USERS}
    out.update({c: ok_status for c in ok})
    out.update({c: 404 for c in hidden})
    out.update({c: 401 for c in BAD_TOKENS})
    out.update(special)
    return out


PUBLIC_OK = {c: 200 for c in COLUMNS}
EVERY_USER = expect(USERS)


def d1(w: World, c: str) -> dict[str, Any]:
    return {"path": {"dossier_id": w.d1}}


def d0_versioned(extra: dict[str, Any]) -> Prepare:
    def prepare(w: World, c: str) -> dict[str, Any]:
        return {"path": {"dossier_id": w.d0}, "json": {**extra, "version": w.version(w.d0)}}

    return prepare


def referral_in(status: str, allowed: tuple[str, ...], body: dict[str, Any] | None = None,
                dossier: str = "d1") -> Prepare:
    """A fresh referral in `status` for the callers allowed to act, a fixed one for the others."""

    def prepare(w: World, c: str) -> dict[str, Any]:
        if c in allowed:
            referral = w.fresh_referral(status, getattr(w, dossier))
        else:
            referral = w.d1_refs[0]["id"]
        return {"path": {"referral_id": referral}, "json": body}

    return prepare


def own_token(w: World, c: str) -> dict[str, Any]:
    """A spare token of the caller itself (anyone may revoke their own)."""
    who = w.who(c)
    token_id = w.env.new_token(who)[0] if isinstance(who, User) else str(uuid.uuid4())
    return {"path": {"token_id": token_id}}


def spare_session(w: World, c: str) -> dict[str, Any]:
    """The caller signs out with a spare token of theirs (their usual one stays valid)."""
    who = w.who(c)
    if not isinstance(who, User):
        return {}
    return {"who": replace(who, token=w.env.new_token(who)[1])}


def owners_token(w: World, c: str) -> dict[str, Any]:
    """A spare token of the owner doctor, revoked by someone else."""
    return {"path": {"token_id": w.env.new_token(w.r.owner)[0]}}


def new_user(w: World, c: str) -> dict[str, Any]:
    return {"json": {"role": "secretary", "name": f"Nouvelle {w.env.next_seq()}"}}


def locked_doctor(w: World, c: str) -> dict[str, Any]:
    """A doctor whose signing code is locked (5 wrong codes), for the admin to unlock."""
    from orient.assistant.store import code_lock

    doctor = w.env.user("doctor")
    with w.env.session() as session:
        for _ in range(code_lock.MAX_FAILURES):
            code_lock.attempt(session, doctor.id, False, w.env.hub.now())
        session.commit()
    return {"path": {"user_id": doctor.id}}


def delegation(w: World, c: str) -> dict[str, Any]:
    until = (w.env.clock() + timedelta(days=30)).isoformat()
    return {"json": {"doctor_rpps": w.r.owner.rpps, "secretary_id": w.spare_secretary.id,
                     "scopes": ["fill_admin"], "until": until}}


def accept_body(w: World, c: str) -> dict[str, Any]:
    prepared = referral_in("read", ("recv_unit",), dossier="d2")(w, c)
    prepared["json"] = {"admission_at": (w.env.clock() + timedelta(hours=3)).isoformat(),
                        "contact": "Dr Interne, poste 4521"}
    return prepared


def accepted_referral(status: str) -> Prepare:
    """For recv_unit, a referral of a new dossier of its own, accepted (or admitted) by its unit
    (an acceptance cancels the siblings and closes the dossier to new sends); the others get a
    fixed referral of d1."""

    def prepare(w: World, c: str) -> dict[str, Any]:
        if c != "recv_unit":
            return {"path": {"referral_id": w.d1_refs[0]["id"]}}
        _, refs = w.env.sent(w.r.owner, units=RECEIVER_UNITS[:1])
        w.env.bring(refs[0]["id"], status, w.r.recv_unit)
        return {"path": {"referral_id": refs[0]["id"]}}

    return prepare


def failed_notification(w: World, c: str) -> dict[str, Any]:
    """A notification the mail server refused for good (store/outbox.py), for the admin to retry."""
    from orient.assistant.store.tables import NotifyOutboxRow

    now = w.env.clock()
    row_id = str(uuid.uuid4())
    with w.env.session() as session:
        session.add(NotifyOutboxRow(id=row_id, event_key=f"x:sent:{row_id}", kind="sent", recipient="unit:x",
                                    address="x@chu.mssante.fr", level="full", subject="s", body="b",
                                    status="failed", attempts=1, next_at=now, created_at=now))
        session.commit()
    return {"path": {"notification_id": row_id}}


ROWS: list[Row] = [
    # system
    Row("GET", "/health", PUBLIC_OK),
    Row("GET", "/version", PUBLIC_OK),
    Row("GET", "/openapi.json", PUBLIC_OK),
    # dossiers
    Row("GET", "/dossiers", expect(FILLERS)),
    Row("POST", "/dossiers", expect(REQUESTERS + ("other_doctor",), ok_status=201),
        lambda w, c: {"json": {}}),
    # a new dossier from a document (the body is the Bundle itself)
    Row("POST", "/dossiers/import", expect(REQUESTERS + ("other_doctor",), ok_status=201),
        lambda w, c: {"json": json.loads(example_bundle())}),
    Row("GET", "/dossiers/{dossier_id}", expect(REQUESTERS, hidden=STRANGERS), d1),
    Row("POST", "/dossiers/{dossier_id}/answer", expect(REQUESTERS, hidden=STRANGERS),
        d0_versioned({"text": "Toulouse"})),
    Row("POST", "/dossiers/{dossier_id}/proposals", expect(REQUESTERS, hidden=STRANGERS),
        lambda w, c: {"path": {"dossier_id": w.d0}, "json": {"base_version": w.version(w.d0), "proposals": [
            {"field": "patient.address", "text": "1 rue du Taur", "source": "import"}]}}),
    Row("POST", "/dossiers/{dossier_id}/back", expect(REQUESTERS, hidden=STRANGERS), d0_versioned({})),
    Row("POST", "/dossiers/{dossier_id}/edit", expect(REQUESTERS, hidden=STRANGERS),
        d0_versioned({"field": "patient.birth_name"})),
    Row("POST", "/dossiers/{dossier_id}/cancel-change", expect(REQUESTERS, hidden=STRANGERS),
        d0_versioned({})),
    Row("GET", "/dossiers/{dossier_id}/review", expect(REQUESTERS, hidden=STRANGERS), d1),
    Row("GET", "/dossiers/{dossier_id}/proposals", expect(REQUESTERS, hidden=STRANGERS), d1),
    Row("GET", "/dossiers/{dossier_id}/why-not/{unit_id}", expect(REQUESTERS, hidden=STRANGERS),
        lambda w, c: {"path": {"dossier_id": w.d1, "unit_id": OTHER_UNITS[0]}}),
    Row("PUT", "/dossiers/{dossier_id}/units", expect(REQUESTERS, hidden=STRANGERS),
        lambda w, c: {"path": {"dossier_id": w.d1}, "json": {"unit_ids": [RECEIVER_UNITS[0]]}}),
    # only the doctor signs ("never" for a secretary)
    Row("POST", "/dossiers/{dossier_id}/sign", expect(("owner",), hidden=STRANGERS),
        lambda w, c: {"path": {"dossier_id": w.d1}, "json": {"code": "4321", "version": w.version(w.d1)}}),
    # signing by Pro Santé Connect: off in this world, which the dossier's doctor alone is told
    Row("POST", "/dossiers/{dossier_id}/sign/psc", expect((), hidden=STRANGERS, owner=404),
        lambda w, c: {"path": {"dossier_id": w.d1}, "json": {"version": w.version(w.d1)}}),
    # a secretary sends only with the scope `send` (d1 is signed and already sent: a repeat)
    Row("POST", "/dossiers/{dossier_id}/send", expect(("owner", "sec_send"), hidden=STRANGERS),
        lambda w, c: {"path": {"dossier_id": w.d1}, "json": {"idempotency_key": f"matrix-{c}-{uuid.uuid4()}"}}),
    Row("GET", "/dossiers/{dossier_id}/referrals", expect(REQUESTERS, hidden=STRANGERS), d1),
    # requester side of referrals
    Row("GET", "/referrals", expect(FILLERS)),
    Row("POST", "/referrals/{referral_id}/cancel", expect(REQUESTERS, hidden=STRANGERS),
        referral_in("sent", REQUESTERS, {"reason": "improved"})),
    Row("POST", "/referrals/{referral_id}/answer-info", expect(REQUESTERS, hidden=STRANGERS),
        referral_in("info_requested", REQUESTERS, {"text": "Créatininémie à 110 µmol/l hier."})),
    # the FHIR export: the requester's side and the referral's unit, as each may read it
    Row("GET", "/referrals/{referral_id}/fhir", expect(REQUESTERS + ("recv_unit",), hidden=STRANGERS + ("recv_other",)),
        lambda w, c: {"path": {"referral_id": w.d1_refs[0]["id"]}}),
    # receiving side
    Row("GET", "/inbox", expect(RECEIVERS)),
    Row("POST", "/inbox/{referral_id}/open", expect(("recv_unit",), hidden=("recv_other",)),
        referral_in("sent", ("recv_unit",))),
    Row("POST", "/inbox/{referral_id}/accept", expect(("recv_unit",), hidden=("recv_other",)), accept_body),
    Row("POST", "/inbox/{referral_id}/refuse", expect(("recv_unit",), hidden=("recv_other",)),
        referral_in("read", ("recv_unit",), {"reason": "no_bed"})),
    Row("POST", "/inbox/{referral_id}/request-info", expect(("recv_unit",), hidden=("recv_other",)),
        referral_in("read", ("recv_unit",), {"question": "Poids du patient ?"})),
    Row("POST", "/inbox/{referral_id}/admit", expect(("recv_unit",), hidden=("recv_other",)),
        accepted_referral("accepted")),
    Row("POST", "/inbox/{referral_id}/close", expect(("recv_unit",), hidden=("recv_other",)),
        accepted_referral("admitted")),
    Row("PUT", "/units/{unit_id}/availability", expect(("recv_unit", "admin")),
        lambda w, c: {"path": {"unit_id": RECEIVER_UNITS[0]}, "json": {"availability": "limited"}}),
    # everyone with a token
    Row("GET", "/feed", EVERY_USER, lambda w, c: {"params": {"after": -1}}),
    Row("GET", "/feed", EVERY_USER, lambda w, c: {"params": {"after": 0, "wait": 0}}, name="events"),
    Row("GET", "/me", EVERY_USER),
    Row("GET", "/me/profile", expect(("owner", "other_doctor"))),
    Row("PUT", "/me/profile", expect(("owner", "other_doctor")),
        lambda w, c: {"json": {"callback_phone": "05 61 00 00 00", "mssante": None}}),
    Row("GET", "/stats", EVERY_USER),
    Row("GET", "/audit/verify", EVERY_USER),
    Row("GET", "/directory/search", EVERY_USER,
        lambda w, c: {"params": {"specialty": "cardiologie", "commune": "Toulouse", "age": "80"}}),
    # accounts
    Row("POST", "/users", expect(("admin",), ok_status=201), new_user),
    # an admin never obtains a token for a person who signs or reads medical data (finding 2)
    Row("POST", "/users/{user_id}/tokens", expect(()),
        lambda w, c: {"path": {"user_id": w.spare_secretary.id}}, name="secretary"),
    Row("POST", "/users/{user_id}/tokens", expect(()),
        lambda w, c: {"path": {"user_id": w.r.other_doctor.id}}, name="doctor"),
    Row("POST", "/users/{user_id}/tokens", expect(()),
        lambda w, c: {"path": {"user_id": w.r.recv_other.id}}, name="receiver"),
    Row("POST", "/users/{user_id}/tokens", expect(("admin",), ok_status=201),
        lambda w, c: {"path": {"user_id": w.r.admin.id}}, name="admin"),
    Row("GET", "/users/locked", expect(("admin",))),
    Row("DELETE", "/users/{user_id}/lock", expect(("admin",)), locked_doctor),
    Row("DELETE", "/tokens/{token_id}", EVERY_USER, own_token, name="own"),
    Row("DELETE", "/tokens/{token_id}", expect(("owner", "admin"), forbidden=404), owners_token,
        name="someone else's"),
    Row("POST", "/delegations", expect(("owner", "admin"), ok_status=201), delegation),
    Row("GET", "/audit/export", expect(("admin",))),
    # Pro Santé Connect sign-in (off in this world: the hub says so) and logout
    Row("GET", "/auth/psc", PUBLIC_OK),
    Row("POST", "/auth/psc/start", {c: 404 for c in COLUMNS}),
    Row("POST", "/auth/psc/poll", {c: 404 for c in COLUMNS},
        lambda w, c: {"json": {"signin_id": "x", "poll_secret": "y"}}),
    Row("GET", "/auth/psc/callback", {c: 404 for c in COLUMNS}),
    Row("POST", "/auth/logout", EVERY_USER, spare_session),
    # e-mail notifications (tests/api/test_notify.py)
    Row("GET", "/me/notifications", expect(FILLERS)),
    Row("PUT", "/me/notifications", expect(FILLERS), lambda w, c: {"json": {"events": ["accepted"]}}),
    Row("GET", "/units/{unit_id}/notifications", expect(("recv_unit", "admin")),
        lambda w, c: {"path": {"unit_id": RECEIVER_UNITS[0]}}),
    Row("PUT", "/units/{unit_id}/notifications", expect(("recv_unit", "admin")),
        lambda w, c: {"path": {"unit_id": RECEIVER_UNITS[0]}, "json": {"events": ["sent", "cancelled"]}}),
    Row("GET", "/admin/notifications", expect(("admin",))),
    Row("POST", "/admin/notifications/{notification_id}/retry", expect(("admin",)), failed_notification),
]

# Cells where the hub answers otherwise than the contract: (method, path, column) -> what it answers
# today. See the report; each is checked to still hold so that a fix is noticed.
# None left since the hub fixes (no docs pages, 403 for a secretary's dossier creation without
# delegation, her signature and her send without the scope).
KNOWN_DEVIATIONS: dict[tuple[str, str, str], int] = {}


def route_set(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, nested routers included (HEAD aside)."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:  # FastAPI's included router
                context = getattr(route, "include_context", None)
                walk(list(original.routes), prefix + getattr(context, "prefix", ""))
                continue
            inner = getattr(route, "routes", None)
            if inner is not None and not hasattr(route, "methods"):  # a Mount
                walk(list(inner), prefix + getattr(route, "path", ""))
                continue
            for method in getattr(route, "methods", None) or ():
                if method != "HEAD":
                    found.add((method, prefix + route.path))

    walk(list(app.routes), "")
    return found


def test_matrix_covers_every_route(sqlite_env: Env) -> None:
    served = route_set(sqlite_env.app)
    covered = {(row.method, row.path) for row in ROWS}
    assert served - covered == set(), "endpoints without a row in the permission matrix"
    assert covered - served == set(), "rows for endpoints the app does not serve"
    documented = {(m.upper(), p) for p, ops in sqlite_env.app.openapi()["paths"].items() for m in ops}
    assert documented <= served
    for row in ROWS:
        assert set(row.expected) == set(COLUMNS), row.id
    public = {(row.method, row.path) for row in ROWS if row.expected["no_token"] != 401}
    assert public == PUBLIC, "only /health, /version, /openapi.json and the PSC sign-in answer without a token"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_permission_matrix(world: World, row: Row) -> None:
    env = world.env
    wrong: list[str] = []
    for column in COLUMNS:
        prepared = row.prepare(world, column)
        path = row.path.format(**prepared.get("path", {}))
        kwargs: dict[str, Any] = {}
        if prepared.get("json") is not None or row.method in ("POST", "PUT"):
            kwargs["json"] = prepared.get("json") if prepared.get("json") is not None else {}
        if prepared.get("params"):
            kwargs["params"] = prepared["params"]
        response = env.call(row.method, path, prepared.get("who", world.who(column)), **kwargs)
        status = response.status_code
        expected = row.expected[column]
        known = KNOWN_DEVIATIONS.get((row.method, row.path, column))
        if known is not None:
            if status != known:
                wrong.append(f"{column}: known deviation no longer holds: {status} (was {known}, "
                             f"contract {expected}) — update KNOWN_DEVIATIONS")
        elif status != expected:
            wrong.append(f"{column}: {status} instead of {expected}: {response.text[:200]}")
        if status >= 400:
            if status >= 500:
                wrong.append(f"{column}: server error {status}")
            elif not looks_french(detail_of(response)):
                wrong.append(f"{column}: {status} without a French detail: {response.text[:200]}")
        if status == 401 and response.headers.get("www-authenticate", "").lower() != "bearer":
            wrong.append(f"{column}: 401 without WWW-Authenticate: Bearer")
    assert not wrong, f"{row.id}:\n  " + "\n  ".join(wrong)


# -- what each side sees ----------------------------------------------------------------------------
MEDICAL = "medical."


def test_secretary_without_read_medical_sees_no_medical_field(world: World) -> None:
    env, r = world.env, world.r
    for who in (r.sec_deleg, r.sec_send):
        view = env.dossier(who, world.d1)
        assert view["medical_hidden"] is True
        assert not [k for k in view["answers"] if k.startswith(MEDICAL)]
        assert "patient.birth_name" in view["answers"]
        review = env.ok("GET", f"/dossiers/{world.d1}/review", who)
        medical = next(s for s in review if s["section"] == "medical")
        assert medical["hidden"] is True and medical["items"] == []
        others = [i for s in review if s["section"] != "medical" for i in s["items"]]
        assert not [i for i in others if str(i["field"]).startswith(MEDICAL)]
        # nothing medical in any other answer she gets about the dossier
        assert "Décompensation" not in str(env.ok("GET", f"/dossiers/{world.d1}/referrals", who))


def test_secretary_with_read_medical_and_doctor_see_the_medical_section(world: World) -> None:
    env, r = world.env, world.r
    for who in (r.sec_medical, r.owner):
        view = env.dossier(who, world.d1)
        assert view["medical_hidden"] is False
        assert view["answers"]["medical.reason"] == "Décompensation cardiaque progressive depuis 5 jours"
        assert {"medical.diagnosis_code", "medical.treatments"} <= set(view["answers"])
        medical = next(s for s in env.ok("GET", f"/dossiers/{world.d1}/review", who) if s["section"] == "medical")
        assert medical["hidden"] is False and medical["items"]


def test_reading_a_dossier_is_audited_with_the_medical_scope(world: World) -> None:
    env, r = world.env, world.r
    env.dossier(r.sec_deleg, world.d1)
    env.dossier(r.sec_medical, world.d1)
    lines = [line for line in env.ok("GET", "/audit/export", r.admin).splitlines() if '"dossier_read"' in line]
    assert any(r.sec_deleg.id in line and "volet médical masqué" in line for line in lines)
    assert any(r.sec_medical.id in line and "volet médical inclus" in line for line in lines)
    env.audit_ok()


def test_admin_sees_no_dossier(world: World) -> None:
    env, admin = world.env, world.r.admin
    for path in ("/dossiers", f"/dossiers/{world.d1}", f"/dossiers/{world.d1}/review",
                 f"/dossiers/{world.d1}/referrals", "/referrals", "/inbox"):
        response = env.call("GET", path, admin)
        assert response.status_code == 403, (path, response.text)
        assert looks_french(detail_of(response))
    assert env.call("POST", f"/inbox/{world.d1_refs[0]['id']}/open", admin).status_code == 403
    assert env.ok("GET", "/feed", admin, params={"after": 0, "wait": 0})["events"] == []
    export = env.ok("GET", "/audit/export", admin)
    assert "Décompensation" not in export and "MARTIN" not in export


def test_a_unit_sees_only_referrals_addressed_to_it(world: World) -> None:
    env, r = world.env, world.r
    mine = env.ok("GET", "/inbox", r.recv_unit)
    assert mine and all(x["unit_id"] in r.recv_unit.units for x in mine)
    assert {x["id"] for x in world.d1_refs} <= {x["id"] for x in mine}
    assert env.ok("GET", "/inbox", r.recv_other) == []
    for referral in world.d1_refs:
        response = env.call("POST", f"/inbox/{referral['id']}/open", r.recv_other)
        assert response.status_code == 404 and looks_french(detail_of(response))
    assert env.ok("GET", "/feed", r.recv_other, params={"after": 0, "wait": 0})["events"] == []
    events = env.ok("GET", "/feed", r.recv_unit, params={"after": 0, "wait": 0})["events"]
    assert events and all(e["unit_id"] in r.recv_unit.units for e in events)
    stats = env.ok("GET", "/stats", r.recv_other)
    assert stats["by_status"] == {} and stats["by_unit"] == {}


def test_a_unit_reads_the_medical_section_of_its_referrals(world: World) -> None:
    env, r = world.env, world.r
    opened = env.ok("POST", f"/inbox/{world.d1_refs[1]['id']}/open", r.recv_unit)
    assert opened["referral"]["status"] in ("read", "cancelled", "refused", "info_requested")
    assert opened["dossier"]["medical.reason"].startswith("Décompensation")


def test_strangers_see_nothing_of_the_owners_dossiers(world: World) -> None:
    env, r = world.env, world.r
    d1_referrals = {x["id"] for x in world.d1_refs}
    assert world.d1 not in {d["id"] for d in env.ok("GET", "/dossiers", r.other_doctor)}
    assert env.ok("GET", "/dossiers", r.sec_none) == []
    assert not d1_referrals & {x["id"] for x in env.ok("GET", "/referrals", r.other_doctor)}
    assert env.ok("GET", "/referrals", r.sec_none) == []
    assert env.ok("GET", "/feed", r.sec_none, params={"after": 0, "wait": 0})["events"] == []
    # the owner's side sees them
    assert world.d1 in {d["id"] for d in env.ok("GET", "/dossiers", r.sec_deleg)}
    assert d1_referrals <= {x["id"] for x in env.ok("GET", "/referrals", r.sec_deleg)}
    # a 404 for a stranger reads exactly like a 404 for a dossier that does not exist
    missing = str(uuid.uuid4())
    stranger = env.call("GET", f"/dossiers/{world.d1}", r.other_doctor)
    nothing = env.call("GET", f"/dossiers/{missing}", r.other_doctor)
    assert stranger.status_code == nothing.status_code == 404
    assert stranger.json()["detail"].replace(world.d1, "X") == nothing.json()["detail"].replace(missing, "X")


# -- tokens ----------------------------------------------------------------------------------------
def test_token_expires_after_thirty_days(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    paths = ("/me", "/dossiers", "/stats", "/audit/verify")
    env.clock.advance(days=30, seconds=-1)
    for path in paths:
        assert env.call("GET", path, doctor).status_code == 200, path
    env.clock.advance(seconds=2)
    for path in paths:
        response = env.call("GET", path, doctor)
        assert response.status_code == 401, path
        assert "expiré" in response.json()["detail"]
    for path in ("/health", "/version", "/openapi.json"):
        assert env.call("GET", path, doctor).status_code == 200
    # not from the admin (finding 2) ...
    admin = env.demo("admin", "demo-admin")
    assert env.call("POST", f"/users/{doctor.id}/tokens", admin).status_code == 403
    # ... but delivered out of band (`orient users token` on the server's machine) it works again
    with env.session() as session:
        _, _, token = accounts_admin.new_token(session, doctor.id, now=env.clock())
    assert env.ok("GET", "/me", token)["id"] == doctor.id


def test_revoked_token_is_refused_and_admin_revokes_any(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    other = env.user("doctor")
    token_id, token = env.new_token(doctor)
    assert env.ok("GET", "/me", token)["id"] == doctor.id
    # another user cannot revoke it, nor learn that it exists
    refused = env.call("DELETE", f"/tokens/{token_id}", other)
    assert refused.status_code == 404 and looks_french(detail_of(refused))
    assert env.ok("GET", "/me", token)["id"] == doctor.id
    assert env.ok("DELETE", f"/tokens/{token_id}", env.admin) == {"token_id": token_id, "status": "revoked"}
    response = env.call("GET", "/me", token)
    assert response.status_code == 401 and "révoqué" in response.json()["detail"]
    assert env.ok("GET", "/me", doctor)["id"] == doctor.id  # the other tokens still work
    env.audit_ok()


MALFORMED = ("", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer orient_nope", "bearer\tx", "Token abc",
             "Bearer " + "x" * 5000, "Bearer orient_\u00e9\u00e8")


def test_malformed_authorization_is_401_in_french(sqlite_env: Env) -> None:
    for header in MALFORMED:
        response = sqlite_env.call("GET", "/me", headers={"Authorization": header.encode("utf-8")})
        assert response.status_code == 401, (header[:30], response.text)
        assert looks_french(detail_of(response)), response.text
        assert response.headers["www-authenticate"] == "Bearer"


def test_new_user_token_can_be_revoked_by_id(sqlite_env: Env) -> None:
    env = sqlite_env
    created = env.ok("POST", "/users", env.admin, json={"role": "admin", "name": "Jeanne Neuve"}, status=201)
    assert created["token_id"]
    env.ok("DELETE", f"/tokens/{created['token_id']}", created["token"])
    assert env.call("GET", "/me", created["token"]).status_code == 401


def test_revoking_a_revoked_token_again_is_409(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    token_id, _ = env.new_token(doctor)
    assert env.ok("DELETE", f"/tokens/{token_id}", env.admin) == {"token_id": token_id, "status": "revoked"}
    before = env.audit_count()
    again = env.call("DELETE", f"/tokens/{token_id}", env.admin)
    assert again.status_code == 409, again.text
    assert detail_of(again) == "Ce jeton est déjà révoqué."
    assert env.audit_count() == before
    env.audit_ok()


def test_docs_pages_are_gone(sqlite_env: Env) -> None:
    env = sqlite_env
    doctor = env.user("doctor")
    for path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        for who in (None, doctor):
            response = env.call("GET", path, who)
            assert response.status_code == 404, (path, response.text)
            assert detail_of(response) == f"Adresse inconnue : « {path} ».", response.text


def test_delegation_rules(sqlite_env: Env) -> None:
    env = sqlite_env
    r = make_roles(env)
    until = (env.clock() + timedelta(days=10)).isoformat()
    body = {"doctor_rpps": r.other_doctor.rpps, "secretary_id": r.sec_none.id, "scopes": ["send"],
            "until": until}
    refused = env.call("POST", "/delegations", r.owner, json=body)  # not his own dossiers
    assert refused.status_code == 403 and looks_french(detail_of(refused))
    done = env.ok("POST", "/delegations", r.other_doctor, json=body, status=201)
    assert done["scopes"] == ["fill_admin", "send"]  # fill_admin always
    # the secretary now acts for that doctor only
    assert env.ok("GET", "/dossiers", r.sec_none) == []
    step = env.ok("POST", "/dossiers", r.sec_none, json={}, status=201)
    assert env.dossier(r.other_doctor, step["dossier_id"])["owner_rpps"] == r.other_doctor.rpps
    # an expired or past delegation is refused with a French message
    past = dict(body, until=(env.clock() - timedelta(days=1)).isoformat())
    response = env.call("POST", "/delegations", r.other_doctor, json=past)
    assert response.status_code == 422 and looks_french(detail_of(response))
    bad_scope = dict(body, scopes=["sign"])
    response = env.call("POST", "/delegations", r.other_doctor, json=bad_scope)
    assert response.status_code == 422 and looks_french(detail_of(response))
    # a delegation that ends: the secretary loses access the moment it does
    env.delegate(r.owner, r.sec_none, ["fill_admin"], days=1)
    dossier = env.ok("POST", "/dossiers", r.owner, json={}, status=201)["dossier_id"]
    assert env.call("GET", f"/dossiers/{dossier}", r.sec_none).status_code == 200
    env.clock.advance(days=1, minutes=1)
    assert env.call("GET", f"/dossiers/{dossier}", r.sec_none).status_code == 404
    env.audit_ok()


def test_delegation_use_is_audited(sqlite_env: Env) -> None:
    env = sqlite_env
    r = make_roles(env)
    step = env.ok("POST", "/dossiers", r.sec_deleg, json={}, status=201)
    env.ok("POST", f"/dossiers/{step['dossier_id']}/answer", r.sec_deleg,
           json={"text": "05 61 00 00 00", "version": step["version"]})
    export = [line for line in env.ok("GET", "/audit/export", r.admin).splitlines()
              if step["dossier_id"] in line and r.sec_deleg.id in line]
    assert export and all('"delegation_id": null' not in line for line in export)


def test_a_secretary_never_signs(world: World) -> None:
    env, r = world.env, world.r
    for who in (r.sec_deleg, r.sec_medical, r.sec_send):
        version = world.version(world.d0)
        response = env.call("POST", f"/dossiers/{world.d0}/sign", who, json={"code": "4321", "version": version})
        assert response.status_code == 403, response.text
        assert detail_of(response) == "Seul le médecin peut signer le dossier."
        assert world.version(world.d0) == version
    stranger = env.call("POST", f"/dossiers/{world.d0}/sign", r.sec_none, json={"code": "4321", "version": 1})
    assert stranger.status_code == 404 and looks_french(detail_of(stranger))
