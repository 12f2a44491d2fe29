"""Helpers of the Pro Santé Connect tests: a real OpenID Connect provider (oidc-provider-mock, in a
thread) serving PSC-shaped claims, a "browser" (an httpx client on the provider's pages handing the
redirect back to the hub's callback), and a man-in-the-middle transport between the hub and the
provider that re-signs id_tokens with changed claims."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from api_helpers import Env
from joserfc import jwt
from joserfc.jwk import RSAKey

from orient.assistant.hub.psc_settings import PscSettings
from orient.assistant.psc_dev_provider import psc_claims

CALLBACK = "http://hub.test/auth/psc/callback"

__all__ = ["CALLBACK", "Tamper", "browser", "callback", "poll", "psc_claims", "register", "settings"]


def settings(provider: str, **extra: Any) -> PscSettings:
    return PscSettings(issuer=provider, discovery_url=f"{provider}/.well-known/openid-configuration",
                       client_id="orient-hub", client_secret="secret-de-test", redirect_url=CALLBACK,
                       **extra)


def register(provider: str, sub: str, claims: dict[str, Any]) -> None:
    httpx.put(f"{provider}/users/{sub}", json=claims).raise_for_status()


def browser(url: str, sub: str | None, *, deny: bool = False) -> str:
    """The person's browser on the provider's pages: picks `sub` (or denies); returns the hub
    callback URL the provider redirects to."""
    with httpx.Client() as client:
        page = client.get(url)
        assert page.status_code == 200, page.text
        answer = client.post(url, data={"action": "deny"} if deny else {"sub": sub})
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(CALLBACK)
        return location


def callback(env: Env, location: str) -> httpx.Response:
    parts = urlsplit(location)
    return env.call("GET", f"{parts.path}?{parts.query}")


def poll(env: Env, started: dict[str, Any]) -> dict[str, Any]:
    return env.ok("POST", "/auth/psc/poll", json={"signin_id": started["signin_id"],
                                                   "poll_secret": started["poll_secret"]})


class Tamper(httpx.BaseTransport):
    """Between the hub and the provider: serves a second key as the JWKS and re-signs the id_token
    with it after changing `claims` (a callable gets the id_token's claims and returns changes)."""

    def __init__(self, claims: dict[str, Any] | Any, key: RSAKey) -> None:
        self.inner = httpx.HTTPTransport()
        self.key = key
        self.claims = claims

    @staticmethod
    def new_key() -> RSAKey:
        return RSAKey.generate_key(2048, parameters={"kid": "seconde-cle"})

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        answer.read()
        if request.url.path.endswith("/jwks"):
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if request.url.path.endswith("/token") and answer.status_code == 200:
            body = answer.json()
            payload = body["id_token"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims.update(self.claims(claims) if callable(self.claims) else self.claims)
            body["id_token"] = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
            return httpx.Response(200, json=body)
        return answer
