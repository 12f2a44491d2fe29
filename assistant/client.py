"""The hub client (httpx). In-process by default (ASGI transport: no port opened), or a remote hub
given by URL and token. Sends go through a local outbox: a send that failed (connection refused,
timeout, 5xx, lost reply) stays there and is retried with the same idempotency key, after a
restart too, so that a referral is never created twice nor lost."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from orient.assistant.errors import HubError, HubUnavailable

__all__ = ["HubClient", "HubError", "HubUnavailable", "Outbox", "PendingSend"]

RETRYABLE = (httpx.TransportError,)  # connection refused or reset, timeouts, protocol errors


@dataclass
class PendingSend:
    dossier_id: str
    key: str
    created_at: str
    attempts: int = 0
    last_error: str = ""


class Outbox:
    """Pending sends in a small JSON file, written atomically, readable by its owner only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, PendingSend] = {}

    def _load(self) -> dict[str, PendingSend]:
        if self.path is None:
            return self._memory
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # an unreadable outbox is not trusted; sends are idempotent on the hub
        try:
            return {str(k): PendingSend(**v) for k, v in raw.items()}
        except (AttributeError, TypeError):
            return {}  # valid JSON of the wrong shape: not ours

    def _save(self, items: dict[str, PendingSend]) -> None:
        if self.path is None:
            self._memory = items
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # a leftover could have wider permissions
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({k: v.__dict__ for k, v in items.items()}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def pending(self) -> list[PendingSend]:
        return list(self._load().values())

    def key_for(self, dossier_id: str) -> str:
        """The key of a pending send of this dossier, or a new one recorded before any attempt."""
        items = self._load()
        for item in items.values():
            if item.dossier_id == dossier_id:
                return item.key
        key = str(uuid.uuid4())
        items[key] = PendingSend(dossier_id, key, datetime.now(UTC).isoformat())
        self._save(items)
        return key

    def failed(self, key: str, error: str) -> None:
        items = self._load()
        if key in items:
            items[key].attempts += 1
            items[key].last_error = error
            self._save(items)

    def done(self, key: str) -> None:
        items = self._load()
        if items.pop(key, None) is not None:
            self._save(items)


class HubClient:
    def __init__(self, *, base_url: str = "http://orient.local", token: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, outbox: Path | None = None,
                 timeout: float = 15.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url, transport=transport, headers=headers,
                                      timeout=timeout)
        self.outbox = Outbox(outbox)

    @classmethod
    def in_process(cls, app: Any, token: str | None, outbox: Path | None = None) -> HubClient:
        return cls(transport=httpx.ASGITransport(app=app), token=token, outbox=outbox)

    def with_token(self, token: str) -> None:
        self.http.headers["Authorization"] = f"Bearer {token}"

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, path, **kwargs)
        except RETRYABLE as exc:
            raise HubUnavailable(f"Hub injoignable : {exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise HubUnavailable(f"Erreur du hub ({response.status_code}) : réessayez.")
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = body.get("detail") if isinstance(body, dict) else str(body)
            except ValueError:
                body, detail = None, response.text
            raise HubError(response.status_code, str(detail), body)
        if response.headers.get("content-type", "").startswith("application/x-ndjson"):
            return response.text
        if response.headers.get("content-type", "").startswith("application/fhir+json"):
            return response.content  # a document, kept byte for byte
        return response.json()

    @property
    def has_token(self) -> bool:
        return "Authorization" in self.http.headers

    # -- Pro Santé Connect sign-in (hub/routes_psc.py) -----------------------------------------
    async def psc_info(self) -> Any:
        return await self.call("GET", "/auth/psc")

    async def psc_start(self) -> Any:
        return await self.call("POST", "/auth/psc/start", json={})

    async def psc_poll(self, signin_id: str, poll_secret: str) -> Any:
        return await self.call("POST", "/auth/psc/poll",
                               json={"signin_id": signin_id, "poll_secret": poll_secret})

    async def logout(self) -> Any:
        return await self.call("POST", "/auth/logout")

    # -- dossiers ---------------------------------------------------------------------------
    async def me(self) -> Any:
        return await self.call("GET", "/me")

    async def profile(self) -> Any:
        """The doctor's profile (callback phone, MSSanté) offered on each new dossier."""
        return await self.call("GET", "/me/profile")

    async def set_profile(self, callback_phone: str | None, mssante: str | None) -> Any:
        return await self.call("PUT", "/me/profile", json={"callback_phone": callback_phone, "mssante": mssante})

    async def create_dossier(self, doctor_rpps: str | None = None) -> Any:
        return await self.call("POST", "/dossiers", json={"doctor_rpps": doctor_rpps})

    async def dossiers(self) -> Any:
        return await self.call("GET", "/dossiers")

    async def dossier(self, dossier_id: str) -> Any:
        return await self.call("GET", f"/dossiers/{dossier_id}")

    async def answer(self, dossier_id: str, text: str, version: int) -> Any:
        return await self.call("POST", f"/dossiers/{dossier_id}/answer", json={"text": text, "version": version})

    async def propose(self, dossier_id: str, proposals: list[dict[str, Any]], base_version: int) -> Any:
        """Offer values from outside the conversation (each {"field", "text", "source",
        "origin"}); the answer is a step whose question asks their confirmation."""
        return await self.call("POST", f"/dossiers/{dossier_id}/proposals",
                               json={"proposals": proposals, "base_version": base_version})

    async def import_dossier(self, content: bytes, kind: str = "fhir",
                             doctor_rpps: str | None = None) -> Any:
        """A new dossier from a document: a FHIR R4 Bundle (`fhir`, the file's bytes as they are)
        or a letter (`letter`, UTF-8 text). The answer holds the step (its question lists the
        values to confirm), the document's origin and French notes."""
        params = {"kind": kind, **({"doctor_rpps": doctor_rpps} if doctor_rpps else {})}
        mime = "application/fhir+json" if kind == "fhir" else "text/plain; charset=utf-8"
        return await self.call("POST", "/dossiers/import", content=content, params=params,
                               headers={"Content-Type": mime})

    async def back(self, dossier_id: str, version: int) -> Any:
        return await self.call("POST", f"/dossiers/{dossier_id}/back", json={"version": version})

    async def edit(self, dossier_id: str, field: str, version: int) -> Any:
        return await self.call("POST", f"/dossiers/{dossier_id}/edit", json={"field": field, "version": version})

    async def cancel_change(self, dossier_id: str, version: int) -> Any:
        return await self.call("POST", f"/dossiers/{dossier_id}/cancel-change", json={"version": version})

    async def review(self, dossier_id: str) -> Any:
        return await self.call("GET", f"/dossiers/{dossier_id}/review")

    async def proposals(self, dossier_id: str, limit: int = 20, offset: int = 0) -> Any:
        return await self.call("GET", f"/dossiers/{dossier_id}/proposals",
                               params={"limit": limit, "offset": offset})

    async def why_not(self, dossier_id: str, unit_id: str) -> Any:
        return await self.call("GET", f"/dossiers/{dossier_id}/why-not/{unit_id}")

    async def choose(self, dossier_id: str, unit_ids: list[str]) -> Any:
        return await self.call("PUT", f"/dossiers/{dossier_id}/units", json={"unit_ids": unit_ids})

    async def sign(self, dossier_id: str, code: str, version: int) -> Any:
        return await self.call("POST", f"/dossiers/{dossier_id}/sign", json={"code": code, "version": version})

    async def send(self, dossier_id: str, *, follow: bool = True) -> Any:
        """Send through the outbox: the key is recorded before the first attempt and kept until
        the hub has answered, so a retry (now or after a restart) reuses it.

        Each send has its own key: sending a sent dossier to units added since is a new send.
        When the key was an earlier send's whose reply was lost, the hub answers with that
        send's referrals and names the chosen units still unsent: with `follow`, they are sent
        at once under a new key (never twice: the hub creates a referral only for a unit that
        has none), and the answer lists the referrals of both."""
        key = self.outbox.key_for(dossier_id)
        try:
            result = await self.call("POST", f"/dossiers/{dossier_id}/send", json={"idempotency_key": key})
        except HubUnavailable as exc:
            self.outbox.failed(key, str(exc))
            raise
        except HubError:
            self.outbox.done(key)  # refused for good (not signed, no unit...): nothing to retry
            raise
        self.outbox.done(key)
        if follow and result.get("repeated") and result.get("unsent_units"):
            more = await self.send(dossier_id, follow=False)
            known = {r["id"] for r in result["referrals"]}
            result = {**more, "referrals": result["referrals"]
                      + [r for r in more["referrals"] if r["id"] not in known]}
        return result

    async def retry_pending(self) -> list[Any]:
        """Retry every pending send; returns the results of those that went through. Only what
        was asked is retried: units chosen after the failed send wait for the person's own send."""
        results = []
        for item in self.outbox.pending():
            try:
                results.append(await self.send(item.dossier_id, follow=False))
            except (HubUnavailable, HubError):
                continue
        return results

    async def dossier_referrals(self, dossier_id: str) -> Any:
        return await self.call("GET", f"/dossiers/{dossier_id}/referrals")

    # -- referrals -------------------------------------------------------------------------
    async def referrals(self) -> Any:
        return await self.call("GET", "/referrals")

    async def cancel(self, referral_id: str, reason: str, text: str | None = None) -> Any:
        return await self.call("POST", f"/referrals/{referral_id}/cancel", json={"reason": reason, "text": text})

    async def answer_info(self, referral_id: str, text: str) -> Any:
        return await self.call("POST", f"/referrals/{referral_id}/answer-info", json={"text": text})

    async def export_fhir(self, referral_id: str) -> bytes:
        """The referral as a FHIR R4 Bundle (JSON bytes), for the hospital's software."""
        return bytes(await self.call("GET", f"/referrals/{referral_id}/fhir"))

    async def inbox(self) -> Any:
        return await self.call("GET", "/inbox")

    async def open_referral(self, referral_id: str) -> Any:
        return await self.call("POST", f"/inbox/{referral_id}/open")

    async def accept(self, referral_id: str, admission_at: datetime, contact: str) -> Any:
        return await self.call("POST", f"/inbox/{referral_id}/accept",
                               json={"admission_at": admission_at.isoformat(), "contact": contact})

    async def refuse(self, referral_id: str, reason: str, text: str | None = None) -> Any:
        return await self.call("POST", f"/inbox/{referral_id}/refuse", json={"reason": reason, "text": text})

    async def request_info(self, referral_id: str, question: str) -> Any:
        return await self.call("POST", f"/inbox/{referral_id}/request-info", json={"question": question})

    async def feed(self, after: int, wait: float = 20.0) -> Any:
        return await self.call("GET", "/feed", params={"after": after, "wait": wait},
                               timeout=wait + 10)

    async def stats(self, **filters: str) -> Any:
        """GET /stats; filters: unit, from, to (months AAAA-MM)."""
        return await self.call("GET", "/stats", params=filters or None)

    async def audit_verify(self) -> Any:
        return await self.call("GET", "/audit/verify")
