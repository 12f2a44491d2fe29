"""Signing by a fresh Pro Santé Connect authentication (`ORIENT_PSC_SIGN_WITH_PSC`), in place of
the signing code.

The doctor asks to sign a dossier at a version: the hub checks the dossier could be signed now
(the same checks as with the code), then starts a PSC sign-in with `prompt=login` and `max_age=0`
whose nonce carries a binding to the content: `<salt>.<sha256(salt|dossier|version|answers hash)>`.
The provider signs that nonce into the id_token, so the authentication is bound to what is signed;
the sign-in row holds the dossier and version (`purpose` `sign:<dossier>:<version>`), the doctor's
account (`user_id`) and the Orient token they asked with (`token_id`).

When the browser comes back (routes_psc.psc_callback, after the id_token's usual checks) the hub
requires that `auth_time` is now (within the clock skew), that the person authenticated is the
signing doctor (their national identifier, else their RPPS), that their Orient session still
holds, and that the dossier is still at that version with those answers; then it signs exactly as
with the code (service.sign: the same `signed` audit entry with the digest of the signed answers),
marked `psc:<sign-in id>`. Anything else is refused in French and nothing is signed.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from orient.assistant.hub import psc as p
from orient.assistant.hub.access import Conflict, Hub, NotFound
from orient.assistant.hub.auth import Principal
from orient.assistant.store.dossiers import StaleWrite
from orient.assistant.store.tables import PscSigninRow, TokenRow, UserRow
from orient.models.users import Actor, Role

PREFIX = "sign:"
NOTHING = " Rien n'est signé."


def is_signing(row: PscSigninRow) -> bool:
    return row.purpose.startswith(PREFIX)


def binding(salt: str, dossier_id: str, version: int, answers_hash: str) -> str:
    return p.digest(f"{salt}|{dossier_id}|{version}|{answers_hash}")


def _target(row: PscSigninRow) -> tuple[str, int]:
    dossier_id, _, version = row.purpose[len(PREFIX):].rpartition(":")
    return dossier_id, int(version)


def start(hub: Hub, who: Principal, actor: Actor, dossier_id: str, version: int) -> p.Started:
    """A PSC sign-in to sign `dossier_id` as it is at `version` (a Conflict when it cannot be)."""
    psc = hub.psc
    if psc is None or not psc.settings.sign_with_psc:
        raise NotFound("Signature par Pro Santé Connect non configurée sur ce hub : signez avec "
                       "votre code personnel.")
    state = hub.service.state(actor, dossier_id)
    if state.version != version:
        raise StaleWrite()
    step = hub.service.sign(actor, dossier_id, "", version, method="psc", dry_run=True)
    if not step.ok:
        raise Conflict(step.message or "Signature impossible pour l'instant.")
    salt = secrets.token_urlsafe(24)
    nonce = f"{salt}.{binding(salt, dossier_id, version, state.answers_hash())}"
    with hub.session() as session:
        return p.start(session, psc, hub.now(), f"{PREFIX}{dossier_id}:{version}", nonce=nonce,
                       user_id=who.user_id, token_id=who.token_id)


def finish(hub: Hub, row: PscSigninRow, claims: dict[str, object], now: datetime) -> str:
    """Signs the dossier of a signing sign-in whose id_token was verified; the French outcome.
    Raises PscRefused (nothing signed) when the authentication is not fresh, is someone else's,
    or the dossier changed. The caller holds no open transaction (the signature writes)."""
    psc: p.PscClient = hub.psc
    skew = psc.settings.clock_skew_seconds
    auth_time = claims.get("auth_time")
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float) \
            or abs(now.timestamp() - auth_time) > skew:
        raise p.PscRefused("auth_time", "Signature refusée : l'authentification Pro Santé Connect "
                           "n'a pas été faite à l'instant (elle doit être refaite pour chaque "
                           "signature). Relancez la signature depuis le terminal." + NOTHING)
    with hub.read_session() as session:
        doctor = session.get(UserRow, row.user_id) if row.user_id else None
        token = session.get(TokenRow, row.token_id) if row.token_id else None
    if doctor is None or doctor.role != Role.DOCTOR.value or not doctor.rpps:
        raise p.PscRefused("no_doctor", "Signature refusée : le compte qui l'a demandée n'est plus "
                           "celui d'un médecin." + NOTHING)
    who = p.Professional.from_claims(claims)
    same = (who.national_id == doctor.psc_id) if doctor.psc_id else (who.rpps == doctor.rpps)
    if not who.national_id or not same:
        raise p.PscRefused("other_person", "Signature refusée : la personne authentifiée dans Pro "
                           "Santé Connect n'est pas le médecin qui signe ce dossier." + NOTHING)
    if token is None or token.revoked_at is not None or p.aware(token.expires_at) <= now:
        raise p.PscRefused("session_ended", "Signature refusée : la session Orient qui l'a demandée "
                           "est terminée (déconnexion ou expiration)." + NOTHING)
    dossier_id, version = _target(row)
    actor = Actor(doctor.id, Role.DOCTOR, doctor.name, rpps=doctor.rpps, session_id=row.token_id)
    changed = p.PscRefused("content_changed", "Signature refusée : le dossier a changé depuis la "
                           "demande de signature. Relisez-le et signez à nouveau." + NOTHING)
    salt, _, bound = row.nonce.partition(".")
    try:
        state = hub.service.state(actor, dossier_id)
        if state.version != version or binding(salt, dossier_id, version, state.answers_hash()) != bound:
            raise changed
        step = hub.service.sign(actor, dossier_id, "", version, method=f"psc:{row.id}",
                                answers_hash=state.answers_hash())
    except StaleWrite:
        raise changed from None
    except NotFound:
        raise p.PscRefused("no_dossier", "Signature refusée : dossier introuvable." + NOTHING) from None
    if not step.ok:
        raise p.PscRefused("sign_refused", (step.message or "Signature refusée.") + NOTHING)
    return "Dossier signé (authentification Pro Santé Connect)."
