"""Helpers for the hub API tests (the hub over httpx, through the ASGI transport).

- `Env`: a hub on one database with a controlled clock (`env.clock`), the demo accounts, and
  synchronous helpers: `env.call(...)` sends one HTTP request; `env.user(...)` creates an account
  with a token (accounts_admin.add_user); `env.fill(...)`, `env.signed(...)`, `env.sent(...)`
  drive a dossier through the API with the answers of tests/scenarios/doctor_full.json.
- `make_roles(env)`: the cast of a test (owner doctor, other doctor, secretaries with and without
  delegation or scopes, a receiver of the chosen units and one of other units, the admin);
  `receiver_roles(env)`: the same cast, its receiver bound to RECEIVER_UNITS.

The requests are real HTTP requests to the FastAPI app (httpx.AsyncClient over ASGITransport, with
`raise_app_exceptions=False` so that a crash is seen as the 500 a client would get), run on an event
loop that the Env owns, so that module-scoped worlds can be shared between tests. The ASGI lifespan
is not run (no PostgreSQL LISTEN/NOTIFY listener): the feed polls, every 0.05 s here.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from orient.assistant import accounts_admin, demo_accounts, demo_world
from orient.assistant.hub.app import Hub, create_app
from orient.assistant.store.db import close_engine, open_engine
from orient.assistant.store.tables import TokenRow
from orient.assistant.store.tokens import issue_token, token_hash

PARIS = ZoneInfo("Europe/Paris")
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "doctor_full.json"
DOCTOR_FULL: dict[str, list[str]] = json.loads(SCENARIO.read_text(encoding="utf-8"))["answers"]
DEMO_CODE = demo_accounts.DEMO_DOCTOR.code or "1234"

# Units of the directory used by the tests (cardiology, the specialty of doctor_full.json): the
# three Toulouse university hospital sites (the demo receiver's) and three other Toulouse units.
CHU_UNITS = ("310783063-cardiology", "310783048-cardiology", "310783055-cardiology")
OTHER_UNITS = ("310026083-cardiology", "310781067-cardiology", "310780259-cardiology")
# A receiver bound to many units of the three sites, so that a dossier can be sent to a fresh one.
UNIT_SPECIALTIES = ("cardiology", "pulmonology", "neurology", "nephrology", "gastroenterology",
                    "internal_medicine", "general_medicine", "acute_geriatrics", "endocrinology", "oncology")
RECEIVER_UNITS = tuple(f"{site}-{spec}" for site in ("310783063", "310783048", "310783055")
                       for spec in UNIT_SPECIALTIES)
STATE_TABLES = ("dossier", "answer", "referral", "chosen_unit", "send_request", "user_account", "delegation",
                "user_unit", "access_token", "feed_event")
TIMING_INPUT = {"today": "aujourd'hui", "within_24h": "sous 24h", "within_48h": "sous 48h"}


# -- helpers --------------------------------------------------------------------------------------
def luhn_rpps(seed: int) -> str:
    """A valid RPPS (11 digits, Luhn check digit) made from a number."""
    body = f"{seed % 10**10:010d}"
    for check in "0123456789":
        digits = [int(c) for c in body + check]
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2 == 1:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


class Clock:
    """A controllable clock for the hub: `clock()` is the current time, `advance(...)` moves it.

    It starts at the real time: the hub's send stamps referrals with the real time (see
    test_lifecycle.py::test_send_uses_the_hub_clock), so deadlines only make sense near it.
    `sync()` sets it back to the real time (used right before a send)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(PARIS).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def sync(self) -> datetime:
        self.now = datetime.now(PARIS)
        return self.now


@dataclass
class User:
    """An account of the test world: `token` goes in the Authorization header."""

    id: str
    role: str
    token: str
    name: str = ""
    rpps: str | None = None
    code: str | None = None
    units: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def detail_of(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


FRENCH_HINTS = ("é", "è", "à", "ç", "ê", "â", "«", " : ", "requête", "jeton", "introuvable", "réservée",
                "impossible", "invalide", "dossier", "demande", "unité", "vous", "champ", "motif", "autre")


def looks_french(text: Any) -> bool:
    """A rough check that an error message is French (and non-empty)."""
    if not isinstance(text, str) or not text.strip():
        return False
    lowered = text.lower()
    return any(hint in lowered for hint in FRENCH_HINTS)


class Env:
    """A hub on one database, with a controlled clock and synchronous HTTP helpers."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock = clock or Clock()
        self.engine = open_engine(url)
        with Session(self.engine) as session:
            demo_world.ensure_demo_accounts(session, now=self.clock())
        self.hub = Hub(self.engine, clock=self.clock)
        self.hub.poll_seconds = 0.05
        self.app = create_app(self.hub)
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://t",
                                      timeout=60)
        self._seq = 0
        self.admin = self.demo("admin", demo_accounts.DEMO_ADMIN.user_id)
        self.demo_doctor = self.demo("doctor", demo_accounts.DEMO_DOCTOR.user_id,
                                     rpps=demo_accounts.DEMO_DOCTOR.rpps, code=DEMO_CODE)

    # -- plumbing -------------------------------------------------------------------------------
    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()
        close_engine(self.engine)  # its audit checkpoint written before the test removes its keys

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def session(self) -> Session:
        return Session(self.engine)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @staticmethod
    def _headers(who: User | str | None, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if isinstance(who, User):
            out.update(who.headers)
        elif isinstance(who, str):
            out["Authorization"] = f"Bearer {who}"
        return out

    async def acall(self, method: str, path: str, who: User | str | None = None, *,
                    headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, headers=self._headers(who, headers), **kwargs)

    def call(self, method: str, path: str, who: User | str | None = None, **kwargs: Any) -> httpx.Response:
        return self.run(self.acall(method, path, who, **kwargs))

    def ok(self, method: str, path: str, who: User | str | None = None, *, status: int | tuple[int, ...] = 200,
           **kwargs: Any) -> Any:
        """A request that must succeed; returns the JSON body (or the text of an ndjson body)."""
        response = self.call(method, path, who, **kwargs)
        allowed = status if isinstance(status, tuple) else (status,)
        assert response.status_code in allowed, (method, path, response.status_code, response.text)
        if response.headers.get("content-type", "").startswith("application/x-ndjson"):
            return response.text
        return response.json()

    # -- accounts -------------------------------------------------------------------------------
    def demo(self, role: str, user_id: str, **extra: Any) -> User:
        with self.session() as session:
            _, token = issue_token(session, user_id, now=self.clock(), label="test")
            session.commit()
        return User(user_id, role, token, **extra)

    def user(self, role: str, name: str | None = None, *, units: tuple[str, ...] | list[str] = (),
             code: str | None = None) -> User:
        """A new account with its first token (accounts_admin.add_user); doctors get a valid RPPS
        and the signing code `code` (default 4321)."""
        seq = self.next_seq()
        name = name or f"{role.capitalize()} Test {chr(ord('A') + seq % 26)}"
        rpps = luhn_rpps(2000000000 + seq * 7919) if role == "doctor" else None
        code = (code or "4321") if role == "doctor" else None
        with self.session() as session:
            user_id, token = accounts_admin.add_user(session, role=role, name=name, rpps=rpps, code=code,
                                                     unit_ids=list(units), by="tests", now=self.clock())
        return User(user_id, role, token, name=name, rpps=rpps, code=code, units=tuple(units))

    def delegate(self, doctor: User, secretary: User, scopes: list[str], days: int = 365) -> str:
        assert doctor.rpps
        with self.session() as session:
            delegation_id, _, _ = accounts_admin.delegate(
                session, doctor_rpps=doctor.rpps, secretary=secretary.id, scopes=scopes,
                until=self.clock() + timedelta(days=days), by="tests", now=self.clock())
        return delegation_id

    def token_id(self, token: str) -> str:
        with self.session() as session:
            row = session.exec(select(TokenRow).where(TokenRow.token_hash == token_hash(token))).one()
            return row.id

    def new_token(self, user: User, *, ttl: timedelta = timedelta(days=30),
                  now: datetime | None = None) -> tuple[str, str]:
        """(token id, token) for the user, issued at `now` (default: the hub clock)."""
        with self.session() as session:
            token_id, token = issue_token(session, user.id, ttl=ttl, now=now or self.clock(), label="test")
            session.commit()
        return token_id, token

    # -- dossiers -------------------------------------------------------------------------------
    def answers_for(self, timing: str = "within_24h", **overrides: list[str]) -> dict[str, list[str]]:
        answers = {k: list(v) for k, v in DOCTOR_FULL.items()}
        answers["request.timing"] = [TIMING_INPUT[timing]]
        answers.update(overrides)
        return answers

    def fill(self, who: User, *, timing: str = "within_24h", doctor_rpps: str | None = None,
             stop_before: str | None = None, answers: dict[str, list[str]] | None = None,
             dossier_id: str | None = None) -> dict[str, Any]:
        """Create a dossier (or continue one) and answer its questions through the API, as the
        scenario says, until no question is left (or `stop_before` is asked). Returns the last step."""
        queues = {k: list(v) for k, v in (answers or self.answers_for(timing)).items()}
        if dossier_id is None:
            body = {"doctor_rpps": doctor_rpps} if doctor_rpps else {}
            step = self.ok("POST", "/dossiers", who, json=body, status=201)
        else:
            view = self.ok("GET", f"/dossiers/{dossier_id}", who)
            step = {"dossier_id": dossier_id, "question": view["question"], "version": view["version"],
                    "status": view["status"], "ok": True}
        while step["question"] is not None:
            field_id = step["question"]["field"]
            if field_id == stop_before:
                break
            queue = queues.get(field_id) or []
            typed = queue.pop(0) if queue else ""
            if not queue and typed == "" and step["question"]["required"]:
                raise AssertionError(f"no answer for the required field {field_id}")
            step = self.ok("POST", f"/dossiers/{step['dossier_id']}/answer", who,
                           json={"text": typed, "version": step["version"]})
            if not step["ok"] and not queue:
                raise AssertionError(f"{field_id}: {typed!r} refused: {step['message']}")
        return step

    def signed(self, doctor: User, *, units: tuple[str, ...] | list[str] = CHU_UNITS[:2],
               timing: str = "within_24h") -> dict[str, Any]:
        """A complete dossier of `doctor` with its units chosen and signed. Returns the sign step."""
        step = self.fill(doctor, timing=timing)
        assert step["status"] == "ready", step
        dossier_id = step["dossier_id"]
        self.ok("PUT", f"/dossiers/{dossier_id}/units", doctor, json={"unit_ids": list(units)})
        signed = self.ok("POST", f"/dossiers/{dossier_id}/sign", doctor,
                         json={"code": doctor.code or DEMO_CODE, "version": step["version"]})
        assert signed["ok"] and signed["status"] == "signed", signed
        return signed

    def send(self, who: User, dossier_id: str, key: str | None = None) -> list[dict[str, Any]]:
        self.clock.sync()  # the send stamps referrals with the real time (product bug, see report)
        body = self.ok("POST", f"/dossiers/{dossier_id}/send", who,
                       json={"idempotency_key": key or f"key-{uuid.uuid4()}"})
        return list(body["referrals"])

    def sent(self, doctor: User, *, units: tuple[str, ...] | list[str] = CHU_UNITS[:2],
             timing: str = "within_24h") -> tuple[str, list[dict[str, Any]]]:
        """A dossier of `doctor` signed and sent to `units`: (dossier id, its referrals)."""
        signed = self.signed(doctor, units=units, timing=timing)
        return signed["dossier_id"], self.send(doctor, signed["dossier_id"])

    def resend(self, doctor: User, dossier_id: str, unit: str) -> dict[str, Any]:
        """Send an already sent dossier to one more unit: the new referral."""
        self.ok("PUT", f"/dossiers/{dossier_id}/units", doctor, json={"unit_ids": [unit]})
        return next(x for x in self.send(doctor, dossier_id) if x["unit_id"] == unit)

    def bring(self, referral_id: str, status: str, receiver: User) -> dict[str, Any]:
        """Bring a `sent` referral to `status` through the unit's actions (read, info_requested,
        accepted, admitted, closed or refused)."""
        done = self.ok("POST", f"/inbox/{referral_id}/open", receiver)["referral"]
        if status == "info_requested":
            done = self.ok("POST", f"/inbox/{referral_id}/request-info", receiver,
                           json={"question": "Dernière créatininémie ?"})
        elif status in ("accepted", "admitted", "closed"):
            done = self.ok("POST", f"/inbox/{referral_id}/accept", receiver, json={
                "admission_at": (self.clock() + timedelta(hours=2)).isoformat(), "contact": "Poste 4521"})
            if status in ("admitted", "closed"):
                done = self.ok("POST", f"/inbox/{referral_id}/admit", receiver)
            if status == "closed":
                done = self.ok("POST", f"/inbox/{referral_id}/close", receiver)
        elif status == "refused":
            done = self.ok("POST", f"/inbox/{referral_id}/refuse", receiver, json={"reason": "no_bed"})
        assert done["status"] == status, done
        return dict(done)

    def referral(self, who: User, referral_id: str) -> dict[str, Any]:
        """A referral as the requester's dashboard shows it."""
        return next(x for x in self.ok("GET", "/referrals", who) if x["id"] == referral_id)

    def dossier(self, who: User, dossier_id: str) -> dict[str, Any]:
        return dict(self.ok("GET", f"/dossiers/{dossier_id}", who))

    def db_state(self, units: tuple[str, ...] = ()) -> dict[str, list[tuple[str, ...]]]:
        """Every row of the tables that hold what users did (the audit chain aside), read straight
        from the database, to check that a refused request changed nothing."""
        state: dict[str, list[tuple[str, ...]]] = {}
        with self.engine.connect() as conn:
            for name in STATE_TABLES:
                table = SQLModel.metadata.tables[name]
                state[name] = sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
            unit = SQLModel.metadata.tables["unit"]
            query = select(unit.c.id, unit.c.availability, unit.c.availability_at).where(unit.c.id.in_(units))
            state["unit"] = sorted(tuple(map(repr, row)) for row in conn.execute(query))
        return state

    def audit_ok(self, who: User | None = None) -> dict[str, Any]:
        verdict = self.ok("GET", "/audit/verify", who or self.admin)
        assert verdict["ok"] is True, verdict
        return dict(verdict)

    def audit_count(self) -> int:
        return int(self.audit_ok()["entries"])


@dataclass
class Roles:
    """The cast of a test: a doctor owning the dossiers, another doctor, secretaries of the
    owner (fill_admin; fill_admin + read_medical; fill_admin + send), a secretary without any
    delegation, a receiver of the chosen units and one of other units, and the admin."""

    owner: User
    other_doctor: User
    sec_deleg: User
    sec_none: User
    sec_medical: User
    sec_send: User
    recv_unit: User
    recv_other: User
    admin: User


def make_roles(env: Env, units: tuple[str, ...] = CHU_UNITS, other_units: tuple[str, ...] = OTHER_UNITS) -> Roles:
    owner = env.user("doctor", "Dr Paul Durand")
    other_doctor = env.user("doctor", "Dr Anne Autre")
    sec_deleg = env.user("secretary", "Léa Déléguée")
    sec_none = env.user("secretary", "Nina Sansdélégation")
    sec_medical = env.user("secretary", "Marie Médicale")
    sec_send = env.user("secretary", "Éva Envoi")
    env.delegate(owner, sec_deleg, ["fill_admin"])
    env.delegate(owner, sec_medical, ["fill_admin", "read_medical"])
    env.delegate(owner, sec_send, ["fill_admin", "send"])
    recv_unit = env.user("receiver", "Accueil cardiologie", units=units)
    recv_other = env.user("receiver", "Accueil autre", units=other_units)
    return Roles(owner, other_doctor, sec_deleg, sec_none, sec_medical, sec_send, recv_unit, recv_other,
                 env.admin)


def receiver_roles(env: Env) -> Roles:
    """The cast, its receiver bound to many units of the three CHU sites (RECEIVER_UNITS), so that
    a dossier can be sent to a unit no other test used."""
    return make_roles(env, units=RECEIVER_UNITS)


def make_env(url: str) -> Env:
    return Env(url)


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(UTC)
