"""Exactly-once sending (spec/lifecycle.md, "Guarantees") under a faulty network.

The sends go through `FaultyTransport`, which wraps the in-process ASGI transport and, at random
per request (seeded; the seed is printed and named in every failure, and ORIENT_FAULT_SEED replays
it): loses the reply after the hub handled the request, times out before or after it, answers 500
without calling the hub, or resets the connection before sending. The client retries `send` until it
succeeds, or is "restarted" (a new HubClient on the same outbox file) and calls `retry_pending`.
Whatever happened, each dossier ends with exactly one referral per chosen unit, and the client's
final answer lists those very referrals. Two clients sending one dossier at once (different outboxes,
so different keys) also create one set, on SQLite and on PostgreSQL (two real connections).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from signed_dossiers import DOCTOR, referral_counts, referral_rows, signed_dossiers
from sqlalchemy import func, select
from sqlmodel import Session

from orient.assistant import accounts_admin, demo_accounts
from orient.assistant.client import HubClient, HubUnavailable
from orient.assistant.embedded import Embedded
from orient.assistant.service import DossierService
from orient.assistant.store.audit import verify
from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import AuditEntryRow, FeedEventRow, SendRow

SEND = SendRow.__table__  # type: ignore[attr-defined]
FEED = FeedEventRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditEntryRow.__table__  # type: ignore[attr-defined]

ROUNDS = 250  # dossiers sent through the faulty network
CONCURRENT = 30  # dossiers sent by two clients at once
SECOND = 40  # dossiers sent a second time, to units added after the first send
FAULTS = ("ok", "reply_lost_read", "reply_lost_protocol", "timeout_before", "timeout_after",
          "error_500", "connect_reset")
AFTER_SERVER = {"ok", "reply_lost_read", "reply_lost_protocol", "timeout_after"}


def the_seed() -> int:
    seed = int(os.environ.get("ORIENT_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"fault seed: {seed} (replay with ORIENT_FAULT_SEED={seed})")
    return seed


@dataclass
class Attempt:
    dossier_id: str
    key: str
    fault: str


@dataclass
class FaultyTransport(httpx.AsyncBaseTransport):
    """An unreliable network in front of the in-process hub."""

    inner: httpx.AsyncBaseTransport
    rng: random.Random
    fault_rate: float = 0.6
    outbox: Path | None = None  # checked: the key is on disk before any attempt
    attempts: list[Attempt] = field(default_factory=list)

    def pick(self) -> str:
        if self.rng.random() >= self.fault_rate:
            return "ok"
        return self.rng.choice(FAULTS[1:])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.pick()
        if request.url.path.endswith("/send"):
            key = json.loads(request.content)["idempotency_key"]
            dossier_id = request.url.path.split("/")[2]
            self.attempts.append(Attempt(dossier_id, key, fault))
            if self.outbox is not None:
                on_disk = json.loads(self.outbox.read_text(encoding="utf-8"))
                assert on_disk.get(key, {}).get("dossier_id") == dossier_id, \
                    "the idempotency key must be in the outbox file before the attempt"
        if fault == "connect_reset":
            raise httpx.ConnectError("[Errno 104] Connection reset by peer", request=request)
        if fault == "timeout_before":
            raise httpx.ReadTimeout("timed out", request=request)
        if fault == "error_500":
            return httpx.Response(500, json={"detail": "Internal Server Error"}, request=request)
        response = await self.inner.handle_async_request(request)
        if fault == "ok":
            return response
        await response.aread()
        await response.aclose()
        if fault == "reply_lost_read":
            raise httpx.ReadError("connection lost while reading the reply", request=request)
        if fault == "reply_lost_protocol":
            raise httpx.RemoteProtocolError("peer closed connection without a complete reply",
                                            request=request)
        assert fault == "timeout_after"
        raise httpx.ReadTimeout("timed out", request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Prepared:
    embedded: Embedded
    chosen: dict[str, list[str]]  # dossier id -> chosen units
    folder: Path

    def faulty_client(self, token: str, rng: random.Random, outbox: Path,
                      attempts: list[Attempt], fault_rate: float = 0.6) -> HubClient:
        transport = FaultyTransport(httpx.ASGITransport(app=self.embedded.app), rng, fault_rate,
                                    outbox, attempts)
        return HubClient(transport=transport, token=token, outbox=outbox)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    folder = tmp_path_factory.mktemp("exactly-once")
    embedded = Embedded(folder / "orient.db")

    async def prepare() -> dict[str, list[str]]:
        client = embedded.client("doctor")
        try:
            return await signed_dossiers(embedded.engine, client, ROUNDS + 2 * CONCURRENT + SECOND,
                                         random.Random(0))
        finally:
            await client.close()

    chosen = asyncio.run(prepare())
    yield Prepared(embedded, chosen, folder)
    embedded.close()


def result_for(results: list[Any], dossier_id: str) -> Any:
    found = [r for r in results if {x["dossier_id"] for x in r["referrals"]} == {dossier_id}]
    assert len(found) <= 1
    return found[0] if found else None


def check_one_set(engine: Any, dossier_id: str, units: list[str], *results: Any, ctx: str) -> None:
    """One referral per chosen unit in the database, and every answer lists exactly those."""
    rows = referral_rows(engine, dossier_id)
    assert len(rows) == len(units), f"{ctx}: {len(rows)} referrals for {len(units)} units {rows}"
    assert sorted(u for _, u in rows) == sorted(units), ctx
    ids = sorted(i for i, _ in rows)
    for result in results:
        assert sorted(r["id"] for r in result["referrals"]) == ids, f"{ctx}: {result} vs {ids}"
        assert all(r["status"] == "sent" for r in result["referrals"]), ctx


def test_sends_through_a_faulty_network_create_each_referral_once(prepared: Prepared) -> None:
    seed = the_seed()
    rng = random.Random(seed)
    dossier_ids = list(prepared.chosen)[:ROUNDS]
    outbox = prepared.folder / "outbox-faulty.json"
    token = prepared.embedded.token("doctor")
    attempts: list[Attempt] = []
    finals: dict[str, Any] = {}
    restarts = 0

    async def run() -> None:
        nonlocal restarts
        client = prepared.faulty_client(token, rng, outbox, attempts)
        try:
            for n, dossier_id in enumerate(dossier_ids):
                ctx = f"seed {seed}, round {n}, dossier {dossier_id}"
                restarted, result, tries = False, None, 0
                while result is None:
                    tries += 1
                    assert tries < 60, f"{ctx}: no success after {tries} attempts"
                    if restarted:
                        result = result_for(await client.retry_pending(), dossier_id)
                    else:
                        try:
                            result = await client.send(dossier_id)
                        except HubUnavailable:
                            pass
                    if result is None:
                        pending = [p for p in client.outbox.pending() if p.dossier_id == dossier_id]
                        assert len(pending) == 1, f"{ctx}: the key must stay in the outbox"
                        if rng.random() < 0.3:  # the application is restarted
                            await client.close()
                            client = prepared.faulty_client(token, rng, outbox, attempts)
                            restarted, restarts = True, restarts + 1
                assert client.outbox.pending() == [], f"{ctx}: the outbox keeps a finished send"
                finals[dossier_id] = result
        finally:
            await client.close()

    asyncio.run(run())

    engine = prepared.embedded.engine
    for n, dossier_id in enumerate(dossier_ids):
        check_one_set(engine, dossier_id, prepared.chosen[dossier_id], finals[dossier_id],
                      ctx=f"seed {seed}, round {n}, dossier {dossier_id}")

    # every attempt of a dossier reused its one key, and the hub recorded that key once
    keys: dict[str, set[str]] = {}
    for a in attempts:
        keys.setdefault(a.dossier_id, set()).add(a.key)
    assert {d: len(k) for d, k in keys.items()} == {d: 1 for d in dossier_ids}, f"seed {seed}"
    with engine.connect() as conn:
        sends = Counter(d for (d,) in conn.execute(select(SEND.c.dossier_id)))
        sent_events = Counter(d for (d,) in conn.execute(
            select(AUDIT.c.dossier_id).where(AUDIT.c.event == "sent")))
        feed_events = Counter(d for (d,) in conn.execute(
            select(FEED.c.dossier_id).where(FEED.c.kind == "referral_sent")))
    for dossier_id in dossier_ids:
        ctx = f"seed {seed}, dossier {dossier_id}"
        assert sends[dossier_id] == 1, ctx
        assert sent_events[dossier_id] == 1, f"{ctx}: one 'sent' audit entry"
        assert feed_events[dossier_id] == len(prepared.chosen[dossier_id]), f"{ctx}: feed copies"
    with Session(engine) as session:
        assert verify(session).ok

    # the faults did happen: every kind, and many replies lost after the hub had created them
    seen = Counter(a.fault for a in attempts)
    assert set(seen) == set(FAULTS), f"seed {seed}: {seen}"
    repeated = sum(1 for r in finals.values() if r["repeated"])
    assert repeated >= ROUNDS // 5, f"seed {seed}: only {repeated} repeated sends ({seen})"
    assert restarts >= 20, f"seed {seed}: only {restarts} restarts"
    print(f"{len(attempts)} attempts {dict(seen)}, {restarts} restarts, {repeated} repeated")


def secretary_token(embedded: Embedded) -> str:
    """A secretary with a delegation of the demo doctor that includes sending."""
    with Session(embedded.engine) as session:
        user_id, token = accounts_admin.add_user(session, role="secretary",
                                                 name=f"Secrétaire {os.urandom(3).hex()}")
        accounts_admin.delegate(session, doctor_rpps=demo_accounts.DEMO_DOCTOR.rpps or "",
                                secretary=user_id, scopes=["read_medical", "send"],
                                until=datetime.now(UTC) + timedelta(days=2), by="test")
    return token


def test_two_clients_sending_one_dossier_at_once_create_one_set(prepared: Prepared) -> None:
    """The doctor and a delegated secretary send the same dossier at the same moment, from two
    machines (two outboxes, two keys); then the same with both networks faulty."""
    seed = the_seed()
    rng = random.Random(seed)
    embedded = prepared.embedded
    dossier_ids = list(prepared.chosen)[ROUNDS:ROUNDS + 2 * CONCURRENT]
    clean, faulty = dossier_ids[:CONCURRENT], dossier_ids[CONCURRENT:]
    doctor, secretary = embedded.token("doctor"), secretary_token(embedded)
    attempts: list[Attempt] = []

    async def until_sent(client: HubClient, dossier_id: str) -> Any:
        for _ in range(60):
            try:
                return await client.send(dossier_id)
            except HubUnavailable:
                await asyncio.sleep(0)
        raise AssertionError(f"seed {seed}: {dossier_id} never sent")

    async def run() -> list[tuple[str, Any, Any]]:
        out = []
        a = HubClient.in_process(embedded.app, doctor, prepared.folder / "outbox-a.json")
        b = HubClient.in_process(embedded.app, secretary, prepared.folder / "outbox-b.json")
        fa = prepared.faulty_client(doctor, rng, prepared.folder / "outbox-fa.json", attempts)
        fb = prepared.faulty_client(secretary, rng, prepared.folder / "outbox-fb.json", attempts)
        try:
            for n, dossier_id in enumerate(clean):
                # from two machines; every third one is also a double click on the first machine
                sends = [a.send(dossier_id), b.send(dossier_id)] + ([a.send(dossier_id)] if n % 3 == 0 else [])
                ra, rb, *again = await asyncio.gather(*sends)
                out.append((dossier_id, ra, rb))
                out.extend((dossier_id, r, r) for r in again)
            for dossier_id in faulty:
                ra, rb = await asyncio.gather(until_sent(fa, dossier_id), until_sent(fb, dossier_id))
                out.append((dossier_id, ra, rb))
        finally:
            for client in (a, b, fa, fb):
                await client.close()
        return out

    for dossier_id, ra, rb in asyncio.run(run()):
        check_one_set(embedded.engine, dossier_id, prepared.chosen[dossier_id], ra, rb,
                      ctx=f"seed {seed}, dossier {dossier_id}")
    counts = referral_counts(embedded.engine)
    assert all(counts[d] == len(prepared.chosen[d]) for d in dossier_ids)
    assert {a.fault for a in attempts} - {"ok"}, f"seed {seed}: no fault injected"


@dataclass
class LosingTransport(FaultyTransport):
    """Every reply is lost after the hub handled the request."""

    def pick(self) -> str:
        return "reply_lost_read"


def test_a_second_send_to_added_units_creates_each_new_referral_once(prepared: Prepared) -> None:
    """A sent dossier is sent again to units added since (spec/lifecycle.md): through the faulty
    network with restarts, each added unit gets exactly one referral and the first ones stay
    as they were. Half of the dossiers lost the reply of their first send and kept its key: the
    person adds a unit and sends again; the replayed key returns the first referrals, and the
    client sends the added units under a new key (never the first ones twice)."""
    seed = the_seed()
    rng = random.Random(seed)
    embedded = prepared.embedded
    dossier_ids = list(prepared.chosen)[ROUNDS + 2 * CONCURRENT:]
    assert len(dossier_ids) == SECOND
    pool = sorted(set().union(*prepared.chosen.values()))  # the units proposed to these dossiers
    token = embedded.token("doctor")
    outbox = prepared.folder / "outbox-second.json"
    attempts: list[Attempt] = []
    added: dict[str, list[str]] = {}
    finals: dict[str, Any] = {}
    lost_first = set(dossier_ids[::2])

    async def run() -> None:
        clean = HubClient.in_process(embedded.app, token, prepared.folder / "outbox-first.json")
        losing = HubClient(transport=LosingTransport(httpx.ASGITransport(app=embedded.app), rng),
                           token=token, outbox=outbox)
        client = prepared.faulty_client(token, rng, outbox, attempts)
        try:
            for n, dossier_id in enumerate(dossier_ids):
                ctx = f"seed {seed}, dossier {dossier_id}"
                first = prepared.chosen[dossier_id]
                if dossier_id in lost_first:  # sent, but the reply never came: the key stays
                    with pytest.raises(HubUnavailable):
                        await losing.send(dossier_id)
                    assert [p.dossier_id for p in losing.outbox.pending()] == [dossier_id], ctx
                else:
                    result = await clean.send(dossier_id)
                    assert sorted(r["unit_id"] for r in result["referrals"]) == sorted(first), ctx
                more = rng.sample([u for u in pool if u not in first], rng.randint(1, 2))
                added[dossier_id] = more
                answer = await clean.choose(dossier_id, more)
                assert answer["unit_ids"] == first + more, ctx
                result, tries = None, 0
                while result is None:
                    tries += 1
                    assert tries < 60, f"{ctx}: no success after {tries} attempts"
                    try:
                        result = await client.send(dossier_id)
                    except HubUnavailable:
                        if rng.random() < 0.3:  # the application is restarted: its outbox stays
                            await client.close()
                            client = prepared.faulty_client(token, rng, outbox, attempts)
                assert client.outbox.pending() == [], f"{ctx}: the outbox keeps a finished send"
                finals[dossier_id] = result
                if n == 0:
                    assert dossier_id in lost_first
        finally:
            for c in (clean, losing, client):
                await c.close()

    asyncio.run(run())

    engine = embedded.engine
    with engine.connect() as conn:
        sent_events = Counter(d for (d,) in conn.execute(
            select(AUDIT.c.dossier_id).where(AUDIT.c.event == "sent")))
        feed_events = Counter(d for (d,) in conn.execute(
            select(FEED.c.dossier_id).where(FEED.c.kind == "referral_sent")))
    for dossier_id in dossier_ids:
        ctx = f"seed {seed}, dossier {dossier_id}"
        units = prepared.chosen[dossier_id] + added[dossier_id]
        rows = referral_rows(engine, dossier_id)
        assert sorted(u for _, u in rows) == sorted(units), f"{ctx}: {rows}"
        by_unit = {u: i for i, u in rows}
        final = finals[dossier_id]
        listed = {r["id"] for r in final["referrals"]}
        new_ids = {by_unit[u] for u in added[dossier_id]}
        if dossier_id in lost_first:
            # the first referrals (the replayed key) and the added ones; or the added ones alone
            # when the reply of the send of the added units was lost in turn and retried
            assert listed in (set(by_unit.values()), new_ids), ctx
        else:
            assert listed == new_ids, ctx
        assert final["unsent_units"] == [], ctx
        assert sent_events[dossier_id] == 2, f"{ctx}: one 'sent' audit entry per send"
        assert feed_events[dossier_id] == len(units), f"{ctx}: feed copies"
    with Session(engine) as session:
        assert verify(session).ok
    assert {a.fault for a in attempts} - {"ok"}, f"seed {seed}: no fault injected"


def test_concurrent_sends_on_postgresql_create_one_set(pg_url: str) -> None:
    """Two hub processes' worth of connections (two engines) send the same dossiers at once:
    first the service in two threads released together, then two in-process hubs over HTTP."""
    engine_a, engine_b = open_engine(pg_url), open_engine(pg_url)
    try:
        hub_a, hub_b = Embedded.on_engine(engine_a), Embedded.on_engine(engine_b)

        async def prepare() -> dict[str, list[str]]:
            client = hub_a.client("doctor")
            try:
                return await signed_dossiers(engine_a, client, 46, random.Random(1))
            finally:
                await client.close()

        chosen = asyncio.run(prepare())
        ids = list(chosen)
        by_threads, same_key, by_http = ids[:20], ids[20:26], ids[26:]

        services = (DossierService(engine_a), DossierService(engine_b))
        for dossier_id in by_threads + same_key:
            barrier = threading.Barrier(2)
            results: list[Any] = [None, None]
            # two keys (two machines), or one key (a retry reaching another hub process while
            # the first attempt is still running there)
            keys = [f"key-{i}-{dossier_id}" if dossier_id in by_threads else f"key-{dossier_id}"
                    for i in (0, 1)]

            def send(i: int, dossier_id: str = dossier_id, barrier: threading.Barrier = barrier,
                     results: list[Any] = results, keys: list[str] = keys) -> None:
                barrier.wait()
                try:
                    results[i] = services[i].send(DOCTOR, dossier_id, keys[i])
                except Exception as exc:  # noqa: BLE001 - reported below
                    results[i] = exc

            threads = [threading.Thread(target=send, args=(i,)) for i in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert not any(isinstance(r, Exception) for r in results), results
            sets = [sorted(r.id for r in res.referrals) for res in results]
            assert sets[0] == sets[1], (dossier_id, sets)
            assert sorted(res.repeated for res in results) == [False, True], dossier_id
            rows = referral_rows(engine_a, dossier_id)
            assert sorted(i for i, _ in rows) == sets[0]
            assert sorted(u for _, u in rows) == sorted(chosen[dossier_id])

        async def over_http() -> list[tuple[str, Any, Any]]:
            a, b = hub_a.client("doctor"), hub_b.client("doctor")
            try:
                return [(d, *(await asyncio.gather(a.send(d), b.send(d)))) for d in by_http]
            finally:
                await a.close()
                await b.close()

        for dossier_id, ra, rb in asyncio.run(over_http()):
            check_one_set(engine_a, dossier_id, chosen[dossier_id], ra, rb, ctx=dossier_id)
            assert sorted([ra["repeated"], rb["repeated"]]) == [False, True]
        counts = referral_counts(engine_b)
        assert counts == {d: len(u) for d, u in chosen.items()}
        with engine_a.connect() as conn:
            sends = conn.execute(select(func.count()).select_from(SEND)).scalar()
        # both keys recorded (the second one pointing at the same set); one for a shared key
        assert sends == 2 * len(ids) - len(same_key)
    finally:
        engine_a.dispose()
        engine_b.dispose()
