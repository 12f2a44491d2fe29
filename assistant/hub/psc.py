"""Pro Santé Connect (PSC): the hub is the OpenID Connect client (authorization code flow with PKCE
S256, state and nonce). A terminal starts a sign-in, shows the URL and polls; the browser comes back
to the hub's callback, which exchanges the code, checks the id_token (signature against the
provider's JWKS, issuer, audience, expiry, issue time, nonce, with a bounded clock skew), reads the
PSC claims and maps the professional to an Orient account. See docs/psc.md.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from uuid import uuid4

import httpx
from sqlmodel import Session, select

from orient.assistant.hub.psc_settings import PscSettings

if TYPE_CHECKING:  # authlib and joserfc load with the first sign-in, not with the hub (0.2 s)
    from joserfc.jwk import KeySet
from orient.assistant.store.tables import PscSigninRow, UserRow

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256"]
DOCTOR_PROFESSION = "10"  # codeProfession of a médecin


class PscRefused(Exception):
    """A sign-in refused; the message is French, `reason` a short code for the audit."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def rpps_of(national_id: str | None) -> str | None:
    """The RPPS in a PSC national identifier: `8` + the 11-digit RPPS; an 11-digit RPPS as such."""
    value = (national_id or "").strip()
    if re.fullmatch(r"8\d{11}", value):
        return value[1:]
    if re.fullmatch(r"\d{11}", value):
        return value
    return None


@dataclass(frozen=True)
class Professional:
    """What PSC says of the person, read from the id_token and userinfo claims."""

    sub: str
    national_id: str
    given_name: str
    family_name: str
    professions: tuple[str, ...]
    sites: tuple[tuple[str, str], ...]  # (FINESS of the site, its name)
    auth_time: int | None = None

    @property
    def rpps(self) -> str | None:
        return rpps_of(self.national_id)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Professional:
        exercices = ((claims.get("SubjectRefPro") or {}).get("exercices") or [])
        professions = tuple(str(e.get("codeProfession", "")) for e in exercices if e.get("codeProfession"))
        sites = tuple((str(a.get("numeroFinessSite") or ""), str(a.get("raisonSocialeSite") or ""))
                      for e in exercices for a in (e.get("activities") or []))
        first = exercices[0] if exercices else {}
        given = str(claims.get("given_name") or first.get("prenomDexercice") or "").strip()
        family = str(claims.get("family_name") or first.get("nomDexercice") or "").strip()
        auth_time = claims.get("auth_time")
        return cls(sub=str(claims.get("sub") or ""), national_id=str(claims.get("SubjectNameID") or ""),
                   given_name=given, family_name=family, professions=professions, sites=sites,
                   auth_time=auth_time if isinstance(auth_time, int) else None)


@dataclass
class PscClient:
    """The OIDC client. `http` makes the httpx client used to reach the provider (tests pass theirs)."""

    settings: PscSettings
    http: Callable[[], httpx.Client] = field(default=lambda: httpx.Client(timeout=10.0))
    _metadata: dict[str, Any] | None = None
    _keys: KeySet | None = None
    _keys_at: float = 0.0

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            try:
                with self.http() as client:
                    answer = client.get(self.settings.discovery())
                    answer.raise_for_status()
                    self._metadata = answer.json()
            except (httpx.HTTPError, ValueError):
                raise PscRefused("discovery", "Pro Santé Connect ne répond pas (configuration "
                                 "introuvable) : réessayez plus tard.") from None
        return self._metadata

    def authorization_url(self, *, state: str, nonce: str, verifier: str, fresh: bool = False) -> str:
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        params = {
            "response_type": "code", "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_url, "scope": self.settings.scope,
            "state": state, "nonce": nonce, "acr_values": self.settings.acr_values,
            "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256",
        }
        if fresh:  # signing: the person authenticates again, now
            params.update(prompt="login", max_age="0")
        endpoint = self.metadata()["authorization_endpoint"]
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)

    def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.settings.redirect_url, "code_verifier": verifier}
        try:
            with self.http() as client:
                answer = client.post(self.metadata()["token_endpoint"], data=data,
                                     auth=(self.settings.client_id, self.settings.secret()))
        except httpx.HTTPError:
            raise PscRefused("token_unreachable", "Pro Santé Connect ne répond pas : réessayez "
                             "plus tard.") from None
        if answer.status_code != 200:
            raise PscRefused("code_refused", "Connexion refusée : Pro Santé Connect n'a pas accepté "
                             "le code d'autorisation (déjà utilisé ou expiré). Relancez la connexion "
                             "depuis le terminal.")
        body = answer.json()
        if not isinstance(body, dict) or not body.get("id_token"):
            raise PscRefused("no_id_token", "Connexion refusée : Pro Santé Connect n'a pas renvoyé "
                             "de jeton d'identité.")
        return body

    def _keyset(self, refresh: bool = False) -> KeySet:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        if self._keys is None or (refresh and time.monotonic() - self._keys_at > 30):
            try:
                with self.http() as client:
                    answer = client.get(self.metadata()["jwks_uri"])
                    answer.raise_for_status()
                    self._keys = KeySet.import_key_set(answer.json())
                    self._keys_at = time.monotonic()
            except (httpx.HTTPError, ValueError, JoseError):
                raise PscRefused("jwks", "Pro Santé Connect ne répond pas (clés de signature "
                                 "introuvables) : réessayez plus tard.") from None
        return self._keys

    def _decode(self, token: str) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError

        bad = PscRefused("signature", "Connexion refusée : la signature du jeton d'identité de "
                         "Pro Santé Connect n'est pas valide.")
        for refresh in (False, True):  # a key unknown at first: the provider may have rotated them
            try:
                return dict(jwt.decode(token, self._keyset(refresh), algorithms=ALGORITHMS).claims)
            except JoseError:
                continue
            except ValueError:
                raise bad from None
        raise bad

    def verify_id_token(self, id_token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
        claims = self._decode(id_token)
        skew = self.settings.clock_skew_seconds
        stamp = now.timestamp()
        issuer = self.metadata().get("issuer")
        if claims.get("iss") != issuer:
            raise PscRefused("issuer", "Connexion refusée : le jeton d'identité ne vient pas de "
                             "l'émetteur Pro Santé Connect attendu.")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.settings.client_id not in audiences or (
                len(audiences) > 1 and claims.get("azp") != self.settings.client_id):
            raise PscRefused("audience", "Connexion refusée : le jeton d'identité n'est pas destiné "
                             "à ce service (audience).")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or exp + skew < stamp:
            raise PscRefused("expired", "Connexion refusée : le jeton d'identité de Pro Santé Connect "
                             "a expiré. Relancez la connexion depuis le terminal.")
        if not isinstance(iat, int | float) or iat - skew > stamp:
            raise PscRefused("iat", "Connexion refusée : le jeton d'identité est daté du futur "
                             "(horloges désynchronisées ?).")
        if not nonce or claims.get("nonce") != nonce:
            raise PscRefused("nonce", "Connexion refusée : le jeton d'identité ne correspond pas à "
                             "cette connexion (nonce).")
        return claims

    def userinfo(self, access_token: str, sub: str) -> dict[str, Any]:
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint or not access_token:
            return {}
        try:
            with self.http() as client:
                answer = client.get(endpoint, headers={"Authorization": f"Bearer {access_token}"})
        except httpx.HTTPError:
            raise PscRefused("userinfo", "Pro Santé Connect ne répond pas : réessayez plus tard.") from None
        if answer.status_code != 200:
            raise PscRefused("userinfo", "Connexion refusée : Pro Santé Connect n'a pas donné le "
                             "profil du professionnel.")
        if answer.headers.get("content-type", "").startswith("application/jwt"):
            info = self._decode(answer.text.strip())
        else:
            info = answer.json()
        if not isinstance(info, dict) or info.get("sub") != sub:
            raise PscRefused("userinfo_sub", "Connexion refusée : le profil renvoyé par Pro Santé "
                             "Connect ne correspond pas au jeton d'identité.")
        return info


# -- sign-ins ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Started:
    signin_id: str
    poll_secret: str
    url: str
    expires_at: datetime


def start(session: Session, psc: PscClient, now: datetime, purpose: str = "login", *,
          nonce: str | None = None, user_id: str | None = None, token_id: str | None = None) -> Started:
    """A sign-in waiting for the browser. For a signature (`purpose` "sign:…", hub/psc_sign.py)
    the authentication must be fresh (prompt=login, max_age=0) and the nonce, which the provider
    signs into the id_token, carries the binding to the dossier's content."""
    state, verifier = (secrets.token_urlsafe(32) for _ in range(2))
    nonce = nonce or secrets.token_urlsafe(32)
    poll_secret = secrets.token_urlsafe(32)
    url = psc.authorization_url(state=state, nonce=nonce, verifier=verifier,
                                fresh=purpose.startswith("sign"))
    row = PscSigninRow(id=str(uuid4()), poll_hash=digest(poll_secret), state_hash=digest(state),
                       nonce=nonce, code_verifier=verifier, purpose=purpose, status="pending",
                       user_id=user_id, token_id=token_id,
                       created_at=now, expires_at=now + timedelta(minutes=psc.settings.signin_minutes))
    session.add(row)
    session.commit()
    return Started(row.id, poll_secret, url, row.expires_at)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def account_for(session: Session, who: Professional, settings: PscSettings, now: datetime) -> UserRow:
    """The Orient account of the professional: the one pre-registered with this national identifier,
    or a doctor's by RPPS; a new one only for a profession the hub is configured to admit."""
    if not who.sub or not who.national_id:
        raise PscRefused("no_identifier", "Connexion refusée : Pro Santé Connect n'a pas transmis "
                         "l'identifiant national du professionnel.")
    user = session.exec(select(UserRow).where(UserRow.psc_id == who.national_id)).first()
    rpps = who.rpps
    if user is None and rpps:
        user = session.exec(select(UserRow).where(UserRow.rpps == rpps, UserRow.role == "doctor")).first()
        if user is not None and user.psc_id is None:
            user.psc_id = who.national_id
            session.add(user)
    if user is not None:
        return user
    admitted = settings.admit_unknown and bool(settings.professions() & set(who.professions))
    if not admitted:
        raise PscRefused("unknown", "Connexion refusée : aucun compte Orient n'est enregistré pour "
                         f"ce professionnel (identifiant national {who.national_id}). Demandez à "
                         "l'administrateur du hub de vous inscrire.")
    is_doctor = DOCTOR_PROFESSION in who.professions and rpps is not None
    name = f"{who.given_name} {who.family_name}".strip() or who.national_id
    user = UserRow(id=str(uuid4()), role="doctor" if is_doctor else "secretary",
                   name=f"Dr {name}" if is_doctor else name, rpps=rpps if is_doctor else None,
                   psc_id=who.national_id, created_at=now)
    session.add(user)
    return user
