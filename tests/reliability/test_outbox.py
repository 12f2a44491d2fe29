"""The client's outbox (assistant/client.py): a send records its idempotency key in a
local JSON file before the first attempt and keeps it until the hub has answered.

Owner-only file (0600), survives a restart, kept after 5xx, timeouts and lost replies, removed
after success or a definitive refusal (4xx); a damaged file does not stop the client.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from signed_dossiers import referral_rows, signed_dossiers

from orient.assistant.client import HubClient, HubError, HubUnavailable, Outbox
from orient.assistant.embedded import Embedded


@dataclass
class Scripted(httpx.AsyncBaseTransport):
    """In front of the in-process hub: each request takes the next action of the script
    ("ok" once the script is used up), and what the outbox file held at that moment is noted."""

    app: Any
    outbox: Path
    script: list[str] = field(default_factory=list)
    seen: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)  # the outbox file's permissions, per attempt

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        action = self.script.pop(0) if self.script else "ok"
        key = json.loads(request.content).get("idempotency_key") if request.content else None
        on_disk = json.loads(self.outbox.read_text("utf-8")) if self.outbox.exists() else None
        self.seen.append((action, key, on_disk))
        if self.outbox.exists():
            self.modes.append(stat.S_IMODE(self.outbox.stat().st_mode))
        if action == "connect":
            raise httpx.ConnectError("Connection refused", request=request)
        if action == "timeout":
            raise httpx.ConnectTimeout("timed out", request=request)
        if action in ("500", "502", "503"):
            return httpx.Response(int(action), text="Bad Gateway", request=request)
        response = await httpx.ASGITransport(app=self.app).handle_async_request(request)
        if action == "lost":
            await response.aread()
            raise httpx.ReadError("connection lost", request=request)
        if action == "read_timeout":
            await response.aread()
            raise httpx.ReadTimeout("timed out", request=request)
        assert action == "ok", action
        return response


@dataclass
class Setup:
    embedded: Embedded
    chosen: dict[str, list[str]]
    token: str
    unsigned: str  # a dossier that cannot be sent (not signed)

    def dossier(self) -> str:
        return self.chosen_ids.pop()

    def __post_init__(self) -> None:
        self.chosen_ids = list(self.chosen)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("outbox")
    embedded = Embedded(folder / "orient.db")

    async def prepare() -> tuple[dict[str, list[str]], str]:
        client = embedded.client("doctor")
        try:
            chosen = await signed_dossiers(embedded.engine, client, 24, random.Random(2))
            unsigned = (await client.create_dossier())["dossier_id"]
            return chosen, unsigned
        finally:
            await client.close()

    chosen, unsigned = asyncio.run(prepare())
    yield Setup(embedded, chosen, embedded.token("doctor"), unsigned)
    embedded.close()


def client_for(setup: Setup, outbox: Path, *script: str) -> tuple[HubClient, Scripted]:
    transport = Scripted(setup.embedded.app, outbox, list(script))
    return HubClient(transport=transport, token=setup.token, outbox=outbox), transport


def pending_file(outbox: Path) -> dict[str, Any]:
    return json.loads(outbox.read_text("utf-8"))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def failing_send(client: HubClient, dossier_id: str) -> HubUnavailable:
    with pytest.raises(HubUnavailable) as caught:
        await client.send(dossier_id)
    return caught.value


def send_refused_once(setup: Setup, outbox: Path) -> Any:
    """One send of a new dossier whose connection is refused (it stays in `outbox`); the
    transport, which saw the outbox file's mode while the request was in flight."""
    client, transport = client_for(setup, outbox, "connect")

    async def go() -> None:
        try:
            await failing_send(client, setup.dossier())
        finally:
            await client.close()

    run(go())
    return transport


# -- the file itself -----------------------------------------------------------------------------
def test_the_outbox_file_is_readable_by_its_owner_only(setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "nested" / "outbox.json"
    old = os.umask(0)  # even with a permissive umask
    try:
        transport = send_refused_once(setup, outbox)
    finally:
        os.umask(old)
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
    assert transport.modes == [0o600]  # already while the request was in flight
    assert not outbox.with_suffix(".tmp").exists()


def test_a_leftover_temporary_file_does_not_widen_the_permissions(setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.json"
    leftover = outbox.with_suffix(".tmp")
    leftover.write_text("{}", encoding="utf-8")  # left by a crash in the middle of a write
    leftover.chmod(0o644)
    transport = send_refused_once(setup, outbox)
    # the leftover is removed and the file created anew (O_EXCL, 0600): while the send is in
    # flight the key never sits in a world-readable file
    assert transport.modes == [0o600]
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
    assert not leftover.exists()


def test_the_outbox_holds_no_patient_data(setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.json"
    client, _ = client_for(setup, outbox, "500")
    dossier_id = setup.dossier()

    async def go() -> None:
        try:
            await failing_send(client, dossier_id)
        finally:
            await client.close()

    run(go())
    text = outbox.read_text("utf-8")
    for word in ("Martin", "Jeanne", "1938", "cardiaque", "Toulouse"):
        assert word not in text
    (entry,) = json.loads(text).values()
    assert set(entry) == {"dossier_id", "key", "created_at", "attempts", "last_error"}


# -- keeping the key -----------------------------------------------------------------------------
def test_the_key_is_on_disk_before_the_first_attempt_and_kept_until_the_hub_answers(
        setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.json"
    dossier_id = setup.dossier()
    client, transport = client_for(setup, outbox, "connect", "500", "503", "timeout",
                                   "read_timeout", "lost", "ok")

    async def go() -> Any:
        try:
            for _ in range(6):
                await failing_send(client, dossier_id)
                (entry,) = pending_file(outbox).values()
                assert entry["dossier_id"] == dossier_id
            return await client.send(dossier_id)
        finally:
            await client.close()

    result = run(go())
    keys = {key for _, key, _ in transport.seen}
    assert len(keys) == 1  # one key for all seven attempts
    (key,) = keys
    for action, _, on_disk in transport.seen:
        assert on_disk is not None and on_disk[key]["dossier_id"] == dossier_id, action
    attempts = [on_disk[key]["attempts"] for _, _, on_disk in transport.seen]
    assert attempts == [0, 1, 2, 3, 4, 5, 6]  # every failure counted
    assert pending_file(outbox) == {}  # answered: removed
    assert result["repeated"] is True  # the lost replies had created the referrals already
    assert sorted(r["id"] for r in result["referrals"]) == sorted(i for i, _ in
                                                                   referral_rows(setup.embedded.engine, dossier_id))


@pytest.mark.parametrize("failure", ["connect", "timeout", "500", "502", "read_timeout", "lost"])
def test_a_failed_send_keeps_its_key_with_the_error(setup: Setup, tmp_path: Path, failure: str) -> None:
    outbox = tmp_path / "outbox.json"
    dossier_id = setup.dossier()
    client, _ = client_for(setup, outbox, failure)

    async def go() -> HubUnavailable:
        try:
            return await failing_send(client, dossier_id)
        finally:
            await client.close()

    error = run(go())
    (entry,) = pending_file(outbox).values()
    assert entry["dossier_id"] == dossier_id
    assert entry["attempts"] == 1
    assert entry["last_error"] == str(error) and entry["last_error"]
    assert any(w in str(error) for w in ("Hub injoignable", "Erreur du hub"))  # French


def test_the_key_survives_a_restart(setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.json"
    dossier_id = setup.dossier()
    first, t1 = client_for(setup, outbox, "lost")

    async def before() -> None:
        try:
            await failing_send(first, dossier_id)
        finally:
            await first.close()

    run(before())
    (key,) = pending_file(outbox)
    assert t1.seen[0][1] == key
    created = referral_rows(setup.embedded.engine, dossier_id)
    assert len(created) == len(setup.chosen[dossier_id])  # the hub did it; the reply was lost

    # a new process: a new client on the same file
    second, t2 = client_for(setup, outbox)
    assert [p.key for p in second.outbox.pending()] == [key]

    async def after() -> list[Any]:
        try:
            return await second.retry_pending()
        finally:
            await second.close()

    (result,) = run(after())
    assert t2.seen[0][1] == key
    assert result["repeated"] is True
    assert sorted(r["id"] for r in result["referrals"]) == sorted(i for i, _ in created)
    assert referral_rows(setup.embedded.engine, dossier_id) == created
    assert pending_file(outbox) == {}


def test_retry_pending_keeps_what_still_fails_and_clears_the_rest(setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.json"
    a, b, c = setup.dossier(), setup.dossier(), setup.dossier()
    client, _ = client_for(setup, outbox, "connect", "500", "timeout",  # the three sends
                                   "ok", "503", "ok")  # the retry: a goes, b fails, c goes

    async def go() -> list[Any]:
        try:
            for dossier_id in (a, b, c):
                await failing_send(client, dossier_id)
            assert {p.dossier_id for p in client.outbox.pending()} == {a, b, c}
            return await client.retry_pending()
        finally:
            await client.close()

    results = run(go())
    assert sorted({r["referrals"][0]["dossier_id"] for r in results}) == sorted([a, c])
    (left,) = pending_file(outbox).values()
    assert left["dossier_id"] == b and left["attempts"] == 2


# -- clearing the key ------------------------------------------------------------------------------
def test_a_successful_send_leaves_the_outbox_empty(setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.json"
    dossier_id = setup.dossier()
    client, transport = client_for(setup, outbox)

    async def go() -> Any:
        try:
            return await client.send(dossier_id)
        finally:
            await client.close()

    result = run(go())
    assert result["repeated"] is False
    assert pending_file(outbox) == {}
    assert transport.seen[0][2] is not None and len(transport.seen[0][2]) == 1


@pytest.mark.parametrize("case", ["not_signed", "unknown_dossier"])
def test_a_definitive_refusal_clears_the_key(setup: Setup, tmp_path: Path, case: str) -> None:
    outbox = tmp_path / "outbox.json"
    dossier_id = setup.unsigned if case == "not_signed" else "00000000-0000-0000-0000-000000000000"
    client, transport = client_for(setup, outbox)

    async def go() -> HubError:
        try:
            with pytest.raises(HubError) as caught:
                await client.send(dossier_id)
            return caught.value
        finally:
            await client.close()

    error = run(go())
    assert error.status == (409 if case == "not_signed" else 404)
    assert ("pas signé" if case == "not_signed" else "introuvable") in error.detail
    assert transport.seen[0][2] is not None and len(transport.seen[0][2]) == 1  # recorded first
    assert pending_file(outbox) == {}  # then removed: nothing to retry


def test_a_refusal_during_retry_pending_clears_that_key(setup: Setup, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.json"
    client, _ = client_for(setup, outbox, "connect")

    async def go() -> list[Any]:
        try:
            await failing_send(client, setup.unsigned)
            assert len(client.outbox.pending()) == 1
            return await client.retry_pending()
        finally:
            await client.close()

    assert run(go()) == []
    assert pending_file(outbox) == {}


# -- a damaged file -------------------------------------------------------------------------------
DAMAGED = {
    "not_json": b"{not json",
    "truncated": b'{"abc": {"dossier_id": "x", "ke',
    "binary": b"\xff\xfe\x00garbage",
    "empty": b"",
}


@pytest.mark.parametrize("content", list(DAMAGED), ids=list(DAMAGED))
def test_a_corrupt_outbox_does_not_crash_the_client(setup: Setup, tmp_path: Path, content: str) -> None:
    outbox = tmp_path / "outbox.json"
    outbox.write_bytes(DAMAGED[content])
    outbox.chmod(0o600)
    dossier_id = setup.dossier()
    client, _ = client_for(setup, outbox, "connect")

    async def go() -> Any:
        try:
            assert client.outbox.pending() == []
            assert await client.retry_pending() == []
            await failing_send(client, dossier_id)  # recorded anew
            assert [p.dossier_id for p in client.outbox.pending()] == [dossier_id]
            return await client.send(dossier_id)
        finally:
            await client.close()

    result = run(go())
    assert len(result["referrals"]) == len(setup.chosen[dossier_id])
    assert pending_file(outbox) == {}


WRONG_SHAPE = {
    "a_list": "[]",
    "a_string": '"hello"',
    "null": "null",
    "entry_not_an_object": '{"k": 3}',
    "entry_with_unknown_fields": '{"k": {"dossier": "x", "idempotency": "k"}}',
}


@pytest.mark.parametrize("content", list(WRONG_SHAPE), ids=list(WRONG_SHAPE))
def test_an_outbox_of_the_wrong_shape_does_not_crash_the_client(tmp_path: Path, content: str) -> None:
    outbox = tmp_path / "outbox.json"
    outbox.write_text(WRONG_SHAPE[content], encoding="utf-8")
    box = Outbox(outbox)
    assert box.pending() == []
    box.key_for("some-dossier")
    assert [p.dossier_id for p in box.pending()] == ["some-dossier"]
