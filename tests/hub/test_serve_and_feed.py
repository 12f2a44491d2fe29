"""`orient serve` for real: a uvicorn process on a free port.

On SQLite: health, OpenAPI, a token from `orient users add`, a whole dossier over real HTTP.
On PostgreSQL: two hub processes on one database; a client long-polling /feed on hub A sees an
event caused through hub B in under a second, which only NOTIFY gives (the backstop poll is 2 s).
Bad arguments exit 2 with a French message. The logs never hold patient data.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hub_processes import PATIENT, Server, add_user, new_rpps, orient, scenario
from sqlalchemy import insert, update

from orient.assistant import replay
from orient.assistant.client import HubClient, HubError
from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import FeedEventRow, TokenRow
from orient.assistant.store.tokens import token_hash

TOKEN = TokenRow.__table__  # type: ignore[attr-defined]

NOTIFY_LATENCY = 1.0  # seconds; the hub's backstop poll on PostgreSQL is 2 s


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """servers(db) starts one hub process; servers(db, n) starts n at once and gives a list."""
    started: list[Server] = []

    def start(db: str, count: int | None = None) -> Any:
        batch = [Server(db, tmp_path / f"hub-{len(started) + i}.log") for i in range(count or 1)]
        started.extend(batch)
        for server in batch:
            server.launch()
        for server in batch:
            server.wait_ready()
        return batch if count else batch[0]

    yield start
    for server in started:
        server.stop()


def assert_no_patient_data(*servers: Server, also: tuple[str, ...] = ()) -> None:
    for server in servers:
        logs = server.logs()
        assert logs.strip(), "the hub logged nothing at all"
        folded = logs.casefold()
        for secret in (PATIENT, "Jeanne Marie", "12/03/1938", "1938-03-12",
                       "Décompensation cardiaque", "05 61 00 00 00", *also):
            assert secret.casefold() not in folded, f"{secret!r} in the hub's log:\n{logs}"


def test_serve_on_sqlite_answers_a_whole_dossier_over_http(servers: Callable[..., Any],
                                                          tmp_path: Path) -> None:
    db = str(tmp_path / "hub.db")
    hub = servers(db)

    health = httpx.get(hub.url + "/health", timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    spec = httpx.get(hub.url + "/openapi.json", timeout=5)
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in ("/health", "/me", "/dossiers", "/dossiers/{dossier_id}/send", "/feed", "/inbox"):
        assert path in paths, path
    anonymous = httpx.get(hub.url + "/me", timeout=5)
    assert anonymous.status_code == 401 and "Jeton" in anonymous.json()["detail"]

    rpps = new_rpps(1)
    doctor_token = add_user(db, "doctor", "Dr Alice Zed", "--rpps", rpps, "--code", "1234")

    async def conversation() -> tuple[str, dict[str, Any], dict[str, Any]]:
        doctor = HubClient(base_url=hub.url, token=doctor_token, outbox=tmp_path / "outbox.json")
        try:
            me = await doctor.me()
            dossier_id, report = await replay.replay_with_client(
                scenario(choose=[1, 2], send=True), doctor)
            # the query string may carry anything: it must not be logged either
            await doctor.call("GET", "/health", params={"q": PATIENT})
            return dossier_id, report, me
        finally:
            await doctor.close()

    dossier_id, report, me = asyncio.run(conversation())
    assert me["role"] == "doctor" and me["rpps"] == rpps
    assert report["status"] == "sent", report
    assert report["errors"] == [] and report["audit_ok"] is True
    assert report["dossier"]["patient.birth_name"].casefold() == PATIENT.casefold()
    assert len(report["referrals"]) == 2
    assert not (tmp_path / "outbox.json").exists() or (tmp_path / "outbox.json").read_text() == "{}"

    # the receiving unit reads it (medical section included) over HTTP as well
    unit = report["referrals"][0]["unit_id"]
    receiver_token = add_user(db, "receiver", "Accueil", "--unit", unit)

    async def unit_side() -> dict[str, Any]:
        receiver = HubClient(base_url=hub.url, token=receiver_token)
        try:
            (item,) = await receiver.inbox()
            return await receiver.open_referral(item["id"])
        finally:
            await receiver.close()

    opened = asyncio.run(unit_side())
    assert opened["referral"]["dossier_id"] == dossier_id
    assert opened["referral"]["status"] == "read"
    assert opened["dossier"]["patient.birth_name"].casefold() == PATIENT.casefold()

    # refusals are French over HTTP too
    async def refusals() -> list[HubError]:
        client = HubClient(base_url=hub.url, token=doctor_token)
        errors = []
        try:
            for call in (client.dossier("nope"), client.send("nope"),
                         client.call("POST", "/dossiers", content=b"{not json",
                                     headers={"content-type": "application/json"})):
                with pytest.raises(HubError) as caught:
                    await call
                errors.append(caught.value)
        finally:
            await client.close()
        return errors

    missing, send, invalid = asyncio.run(refusals())
    assert missing.status == 404 and "introuvable" in missing.detail
    assert send.status == 404 and "introuvable" in send.detail
    assert invalid.status == 422 and "Requête invalide" in invalid.detail

    # a token whose expiry has passed (they last 30 days) is refused
    admin_token = add_user(db, "admin", "Admin")
    engine = open_engine(db)
    with engine.begin() as conn:
        conn.execute(update(TOKEN).where(TOKEN.c.token_hash == token_hash(admin_token))
                     .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    engine.dispose()
    expired = httpx.get(hub.url + "/me", headers={"Authorization": f"Bearer {admin_token}"}, timeout=5)
    assert expired.status_code == 401 and "expiré" in expired.json()["detail"]

    hub.stop()
    assert "GET /health 200" in hub.logs()  # the access log works...
    assert f"/dossiers/{dossier_id}/send 200" in hub.logs()
    assert_no_patient_data(hub, also=(doctor_token, receiver_token))  # ...without patient data


async def long_poll(client: HubClient, after: int, wait: float = 10.0) -> tuple[float, Any]:
    got = await client.feed(after, wait=wait)
    return time.perf_counter(), got


async def position(client: HubClient) -> int:
    return int((await client.feed(-1, wait=0))["last"])


def test_two_hubs_on_one_postgresql_feed_crosses_processes_within_a_second(
        servers: Callable[..., Any], pg_url: str, tmp_path: Path) -> None:
    rpps = new_rpps(2)
    doctor_token = add_user(pg_url, "doctor", "Dr Bob Yann", "--rpps", rpps, "--code", "1234")
    hub_a, hub_b = servers(pg_url, 2)
    latencies: dict[str, float] = {}

    async def measure(label: str, watchers: list[HubClient], kind: str,
                      trigger: Callable[[], Any]) -> list[Any]:
        """Long-poll on hub A with every watcher, then cause the event on hub B."""
        afters = [await position(w) for w in watchers]
        polls = [asyncio.create_task(long_poll(w, after)) for w, after in zip(watchers, afters)]
        await asyncio.sleep(0.5)  # the requests are waiting on hub A (backstop: every 2 s)
        assert not any(p.done() for p in polls), [p.result() for p in polls if p.done()]
        start = time.perf_counter()
        result = await trigger()
        out = []
        for n, poll in enumerate(polls):
            seen_at, feed = await poll
            latency = seen_at - start
            latencies[f"{label}#{n}"] = latency
            assert kind in [e["kind"] for e in feed["events"]], feed
            assert latency < NOTIFY_LATENCY, f"{label}: event seen on hub A after {latency:.3f} s"
            out.append(feed)
        return [result, *out]

    async def scenario_run() -> None:
        doctor_b = HubClient(base_url=hub_b.url, token=doctor_token)
        doctor_a = HubClient(base_url=hub_a.url, token=doctor_token)
        try:
            dossier_id, report = await replay.replay_with_client(scenario(choose=[1, 2]), doctor_b)
            assert report["status"] == "signed", report
            await doctor_a.me()  # both hubs are warm

            # 1. the doctor watches on A and sends through B
            sent, feed = await measure("send", [doctor_a], "referral_sent",
                                       lambda: doctor_b.send(dossier_id))
            referrals = sent["referrals"]
            assert len(referrals) == 2
            assert {e["referral_id"] for e in feed["events"]} == {r["id"] for r in referrals}

            # 2. the unit and the doctor watch on A; the unit opens a referral through B
            units = [x for r in referrals for x in ("--unit", r["unit_id"])]
            receiver_token = add_user(pg_url, "receiver", "Accueil", *units)
            receiver_a = HubClient(base_url=hub_a.url, token=receiver_token)
            receiver_b = HubClient(base_url=hub_b.url, token=receiver_token)
            try:
                assert len(await receiver_b.inbox()) == 2  # and warm
                for n, ref in enumerate(referrals):
                    opened, unit_feed, doctor_feed = await measure(
                        f"open{n}", [receiver_a, doctor_a], "referral_read",
                        lambda ref=ref: receiver_b.open_referral(ref["id"]))
                    assert opened["referral"]["status"] == "read"
                    assert [e["referral_id"] for e in unit_feed["events"]] == [ref["id"]]
                    assert [e["referral_id"] for e in doctor_feed["events"]] == [ref["id"]]
            finally:
                await receiver_a.close()
                await receiver_b.close()

            # 3. the control: a feed row committed without NOTIFY waits for the 2-second backstop,
            # so the measure above does tell NOTIFY from polling
            async def silent_insert() -> None:
                with engine.begin() as conn:
                    conn.execute(insert(FeedEventRow.__table__).values(  # type: ignore[attr-defined]
                        at=datetime.now(UTC), kind="referral_sent", owner_rpps=rpps, dossier_id="x"))

            with pytest.raises(AssertionError, match="event seen on hub A after"):
                await measure("silent", [doctor_a], "referral_sent", silent_insert)
            assert NOTIFY_LATENCY < latencies.pop("silent#0") < 3.0
        finally:
            await doctor_a.close()
            await doctor_b.close()

    engine = open_engine(pg_url)
    try:
        asyncio.run(scenario_run())
    finally:
        engine.dispose()
    print("feed latencies across processes:", {k: round(v, 3) for k, v in latencies.items()})
    for hub in (hub_a, hub_b):
        hub.stop()
    assert_no_patient_data(hub_a, hub_b, also=(doctor_token,))


# -- refusing to start ---------------------------------------------------------------------------
def serve_refused(args: list[str], real: bool, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`orient serve` that must refuse to start: as a process, or through `cli.main` here (the
    same code; refused before uvicorn is started, so nothing is served from this process)."""
    if real:
        result = orient("serve", *args, timeout=60)
        return result.returncode, result.stderr
    from orient.assistant import cli

    code = cli.main(["serve", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("port", "real"), [("abc", True), ("0", False), ("70000", False),
                                            ("-1", False), ("80.5", False), ("", False)])
def test_serve_with_a_bad_port_exits_2_in_french(tmp_path: Path, port: str, real: bool,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, err = serve_refused([f"--port={port}", "--db", str(tmp_path / "x.db")], real, capsys)
    assert code == 2, err
    assert "orient serve : --port" in err
    assert "un port entre 1 et 65535 est attendu" in err


def test_serve_on_a_port_in_use_exits_2_in_french(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = orient("serve", "--port", str(port), "--db", str(tmp_path / "x.db"), timeout=30)
    assert result.returncode == 2, result
    assert "orient serve" in result.stderr and "port" in result.stderr and "utilisé" in result.stderr


def unusable(tmp_path: Path, kind: str) -> str:
    if kind == "directory":
        return str(tmp_path)
    if kind == "not_a_database":
        (tmp_path / "garbage.db").write_text("ceci n'est pas une base\n" * 200)
        return str(tmp_path / "garbage.db")
    if kind == "unknown_driver":
        return "nosuchdb://somewhere/x"
    if kind == "pg_refused":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"postgresql+psycopg://orient@127.0.0.1:{port}/nope"
    if kind == "bad_url":
        return "postgresql+psycopg://orient@127.0.0.1:notaport/x"
    raise AssertionError(kind)


@pytest.mark.parametrize(("kind", "real"), [
    ("directory", True), ("not_a_database", False), ("unknown_driver", False), ("pg_refused", False),
    ("bad_url", True),
])
def test_serve_with_an_unusable_db_exits_2_in_french(tmp_path: Path, kind: str, real: bool,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, err = serve_refused(["--port", "8765", "--db", unusable(tmp_path, kind)], real, capsys)
    assert code == 2, err
    assert err.startswith("orient serve : "), err
    assert ("Base de données inutilisable" in err or "Adresse de base de données invalide" in err), err
    if kind == "bad_url":
        assert "Adresse de base de données invalide" in err, err
    assert "Traceback" not in err and "Uvicorn running" not in err


def test_serve_refuses_a_bad_worker_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = serve_refused(["--port", "8765", "--workers", "0", "--db", str(tmp_path / "x.db")],
                              False, capsys)
    assert code == 2 and "--workers" in err and "attendu" in err


def test_a_nul_character_in_free_text_is_refused_without_logging_it(
        servers: Callable[..., Any], pg_url: str) -> None:
    token = add_user(pg_url, "doctor", "Dr Nul", "--rpps", new_rpps(5), "--code", "1234")
    hub = servers(pg_url)

    async def go() -> int:
        doctor = HubClient(base_url=hub.url, token=token)
        try:
            _, report = await replay.replay_with_client(scenario(choose=[1], send=True), doctor)
            (ref,) = report["referrals"]
            receiver_token = add_user(pg_url, "receiver", "Accueil", "--unit", ref["unit_id"])
            async with httpx.AsyncClient(base_url=hub.url, timeout=10, headers={
                    "Authorization": f"Bearer {receiver_token}"}) as unit:
                assert (await unit.post(f"/inbox/{ref['id']}/open")).status_code == 200
                answer = await unit.post(f"/inbox/{ref['id']}/request-info",
                                         json={"question": f"{PATIENT}\x00 est-il sous AOD ?"})
                return answer.status_code
        finally:
            await doctor.close()

    status = asyncio.run(go())
    hub.stop()
    assert status == 422, status
    assert_no_patient_data(hub)
