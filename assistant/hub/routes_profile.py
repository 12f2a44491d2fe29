"""The doctor's profile (GET/PUT /me/profile): the callback phone and the MSSanté address that
each new dossier of the doctor (or of a secretary working for them) offers for confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from orient.assistant.hub.access import BadRequest, hub_of, require
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.schemas import Strict
from orient.assistant.store import audit, profiles
from orient.dialogs.hnp import HNP
from orient.models.fields import ReadError, RuleContext, read_answer, refusal_message
from orient.models.users import Role

router = APIRouter(tags=["comptes"])
DOCTOR = require(Role.DOCTOR)
FIELDS = {"callback_phone": "requester.callback_phone", "mssante": "requester.mssante"}


class ProfileIn(Strict):
    callback_phone: str | None = Field(None, max_length=100, description="empty or null: removed")
    mssante: str | None = Field(None, max_length=320, description="empty or null: removed")


class ProfileOut(BaseModel):
    callback_phone: str | None = None
    callback_phone_display: str | None = None
    mssante: str | None = None
    warnings: list[str] = []


def _out(values: dict[str, Any], warnings: list[str] | None = None) -> ProfileOut:
    phone = values.get(FIELDS["callback_phone"])
    return ProfileOut(callback_phone=phone,
                      callback_phone_display=HNP.field(FIELDS["callback_phone"]).display(phone) if phone else None,
                      mssante=values.get(FIELDS["mssante"]), warnings=warnings or [])


@router.get("/me/profile", response_model=ProfileOut)
def read_profile(request: Request, who: Principal = Depends(DOCTOR)) -> ProfileOut:
    hub = hub_of(request)
    with hub.read_session() as session:
        return _out(profiles.get(session, who.rpps or ""))


@router.put("/me/profile", response_model=ProfileOut)
def write_profile(body: ProfileIn, request: Request, who: Principal = Depends(DOCTOR)) -> ProfileOut:
    """Each value is read through its dossier field's rule; a refused one changes nothing."""
    hub = hub_of(request)
    values: dict[str, Any] = {}
    warnings: list[str] = []
    ctx = RuleContext(answers={}, today=hub.now().date())
    for name, field_id in FIELDS.items():
        typed = getattr(body, name)
        if typed is None or not typed.strip():
            values[field_id] = None
            continue
        spec = HNP.field(field_id)
        try:
            values[field_id], found = read_answer(spec, typed, ctx)
        except ReadError as err:
            raise BadRequest(refusal_message(spec, typed, err)) from None
        warnings += [w.message for w in found]
    with hub.session() as session:
        profiles.update(session, who.rpps or "", values, by=who.user_id, now=hub.now())
        audit.append(session, [audit.AuditRecord(event="profile_updated", actor=who.user_id, role=who.role.value,
                                                 field_id=f, value=v, detail=f"profil du médecin {who.rpps}")
                               for f, v in values.items()], at=hub.now())
        session.commit()
        return _out(profiles.get(session, who.rpps or ""), warnings)
