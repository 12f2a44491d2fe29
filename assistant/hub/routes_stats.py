"""`GET /stats`: the answer delays, acceptance rates and overdue counts of the referrals the
caller may follow, per unit and per month (store/referral_stats.py computes them).

Who sees what: a doctor, the referrals they sent (per unit they sent to); a secretary, those of
the doctors whose delegation to her is active; a receiving unit's user, those its units received;
an admin, every unit's, as figures only. Nobody gets a referral, a patient, a free text (refusal
explanation, question, answer): counts, rates, delays and reason codes.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from orient.assistant.hub.access import BadRequest, hub_of, owners_of, principal
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.views import unit_and_establishment
from orient.assistant.store import referral_stats as rs
from orient.models.users import Role

router = APIRouter()
MONTH = r"^\d{4}-\d{2}$"


class DelayOut(BaseModel):
    """Minutes from sending to the event, over the referrals where it happened."""

    count: int
    median_minutes: float | None
    p90_minutes: float | None


class FiguresOut(BaseModel):
    sent: int = Field(description="Demandes envoyées")
    read: int = Field(description="Demandes ouvertes par l'unité")
    answered: int = Field(description="Demandes ayant reçu une première réponse (acceptée, refusée "
                                      "ou informations demandées)")
    accepted: int = Field(description="Demandes acceptées (puis éventuellement admises, clôturées)")
    refused: int = Field(description="Demandes refusées")
    info_requested: int = Field(description="Demandes sur lesquelles l'unité a posé une question")
    cancelled: int = Field(description="Demandes annulées (par le demandeur, ou admis ailleurs)")
    acceptance_rate: float | None = Field(
        description="Acceptées / (acceptées + refusées), entre 0 et 1 ; null sans décision")
    refused_by_reason: dict[str, int] = Field(description="Refus par code de motif (spec du cycle de vie)")
    overdue: int = Field(description="Demandes encore à lire ou à traiter après leur échéance (2 h, 4 h ou 12 h)")
    answered_late: int = Field(description="Premières réponses données après l'échéance")
    answer_delay: DelayOut = Field(description="Délai de première réponse")
    read_delay: DelayOut = Field(description="Délai de lecture")


class MonthOut(BaseModel):
    month: str = Field(description="Mois d'envoi, heure de Paris (AAAA-MM)")
    figures: FiguresOut


class UnitStatsOut(BaseModel):
    unit_id: str
    unit_name: str | None
    establishment: str | None
    figures: FiguresOut
    months: list[MonthOut]


class StatsOut(BaseModel):
    scope: str = Field(description="Ce que couvrent les chiffres : doctor (mes demandes), secretary "
                                   "(celles des médecins qui me délèguent), receiver (celles reçues "
                                   "par mes unités), admin (toutes, par unité)")
    unit: str | None
    from_month: str | None
    to_month: str | None
    total: FiguresOut
    units: list[UnitStatsOut] = Field(description="Par unité, la plus sollicitée d'abord")
    months: list[MonthOut] = Field(description="Par mois d'envoi, du premier au dernier")
    # the first shape of this route, kept for its clients
    overall: DelayOut
    by_unit: dict[str, DelayOut]
    by_status: dict[str, int]
    overdue: int


def _delay(d: rs.Delay) -> DelayOut:
    return DelayOut(count=d.count, median_minutes=d.median_minutes, p90_minutes=d.p90_minutes)


def _figures(f: rs.Figures) -> FiguresOut:
    return FiguresOut(
        sent=f.sent, read=f.read, answered=f.answered, accepted=f.accepted, refused=f.refused,
        info_requested=f.info_requested, cancelled=f.cancelled, acceptance_rate=f.acceptance_rate,
        refused_by_reason=dict(sorted(f.refused_by_reason.items())), overdue=f.overdue,
        answered_late=f.answered_late, answer_delay=_delay(f.answer_delay), read_delay=_delay(f.read_delay))


@router.get("/stats", response_model=StatsOut, tags=["statistiques"])
def stats(
    request: Request,
    unit: str | None = Query(None, description="Une unité (identifiant) ; sans : toutes", min_length=1,
                             max_length=200),
    from_month: str | None = Query(None, alias="from", pattern=MONTH,
                                   description="Premier mois d'envoi compris (AAAA-MM, heure de Paris)"),
    to_month: str | None = Query(None, alias="to", pattern=MONTH,
                                 description="Dernier mois d'envoi compris (AAAA-MM, heure de Paris)"),
    who: Principal = Depends(principal),
) -> StatsOut:
    """Answer delays (median, 90th percentile), acceptance rates, refusals by reason, overdue
    counts and referrals sent, per unit and per month, over the referrals the caller may follow:
    their own (doctor), their delegating doctors' (secretary), their units' (unit), every unit's
    (admin, figures only)."""
    hub = hub_of(request)
    try:
        first = rs.parse_month(from_month, "from")
        last = rs.parse_month(to_month, "to")
    except rs.StatsError as exc:
        raise BadRequest(str(exc)) from None
    if first and last and first > last:
        raise BadRequest(f"Période vide : le mois « from » ({first}) est après le mois « to » ({last}).")
    if unit is not None:
        if hub.service.directory().units.get(unit) is None:
            raise BadRequest(f"Unité inconnue : « {unit} ».")
        if who.role == Role.RECEIVER and unit not in who.unit_ids:
            raise BadRequest(f"L'unité « {unit} » n'est pas l'une des vôtres.")
    units: list[str] | None = None if unit is None else [unit]
    owners: list[str] | None = None
    with hub.read_session() as session:
        if who.role == Role.RECEIVER:
            units = [u for u in (units or who.unit_ids) if u in who.unit_ids]
        elif who.role in (Role.DOCTOR, Role.SECRETARY):
            owners = [o for o in owners_of(session, who, hub) if o]
        elif who.role != Role.ADMIN:
            units = []
        rows = rs.referrals(session, unit_ids=units, owners=owners) if units != [] and owners != [] else []
    st = rs.compute(rows, hub.now(), first=first, last=last)
    per_unit = []
    for unit_id, figures in sorted(st.by_unit.items(), key=lambda kv: (-kv[1].sent, kv[0])):
        u, est = unit_and_establishment(hub, unit_id)
        months = [MonthOut(month=m, figures=_figures(f)) for (uid, m), f in sorted(st.by_unit_month.items())
                  if uid == unit_id]
        per_unit.append(UnitStatsOut(unit_id=unit_id, unit_name=u.name if u else None,
                                     establishment=est.name if est else None, figures=_figures(figures),
                                     months=months))
    return StatsOut(
        scope=who.role.value, unit=unit, from_month=first, to_month=last, total=_figures(st.total),
        units=per_unit, months=[MonthOut(month=m, figures=_figures(f)) for m, f in st.by_month.items()],
        overall=_delay(st.total.answer_delay),
        by_unit={u: _delay(f.answer_delay) for u, f in sorted(st.by_unit.items()) if f.answered},
        by_status=dict(sorted(st.by_status.items())), overdue=st.total.overdue,
    )
