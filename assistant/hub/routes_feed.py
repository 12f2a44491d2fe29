"""The live feed (long polling): a client asks for the events after the last one it saw and the
hub answers as soon as there are some, or after `wait` seconds with none. Events are rows of the
database, so every hub process sees them; on PostgreSQL a NOTIFY wakes waiting requests at once
(`orient.assistant.hub.notify`), elsewhere they look again every `poll_seconds`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import or_, select
from sqlmodel import Session

from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import Hub, hub_of, owners_of, principal
from orient.assistant.hub.auth import Principal
from orient.assistant.store.tables import FeedEventRow
from orient.models.users import Role

router = APIRouter(tags=["fil"])
FEED = FeedEventRow.__table__  # type: ignore[attr-defined]


def _events(session: Session, hub: Hub, who: Principal, after: int) -> list[s.FeedEventOut]:
    if who.role == Role.RECEIVER:
        visible = FEED.c.unit_id.in_(list(who.unit_ids))
    elif who.role in (Role.DOCTOR, Role.SECRETARY):
        visible = FEED.c.owner_rpps.in_(owners_of(session, who, hub))
    else:
        return []
    rows = session.connection().execute(
        select(FEED).where(FEED.c.seq > after, or_(visible)).order_by(FEED.c.seq).limit(500)
    )
    return [s.FeedEventOut(seq=r.seq, at=r.at, kind=r.kind, dossier_id=r.dossier_id,
                           referral_id=r.referral_id, unit_id=r.unit_id, status=r.status) for r in rows]


def _last(session: Session) -> int:
    row = session.connection().execute(select(FEED.c.seq).order_by(FEED.c.seq.desc()).limit(1)).first()
    return int(row.seq) if row else 0


def _last_seq(hub: Hub) -> int:
    with hub.read_session() as session:
        return _last(session)


def _read(hub: Hub, who: Principal, after: int) -> list[s.FeedEventOut]:
    with hub.read_session() as session:
        return _events(session, hub, who, after)


@router.get("/feed", response_model=s.FeedOut)
async def feed(request: Request, after: int = Query(-1, ge=-1, le=2**62),
               wait: float = Query(20.0, ge=0, le=30), who: Principal = Depends(principal)) -> s.FeedOut:
    """Events after `after` (-1: none yet, only the current position)."""
    hub = hub_of(request)
    if after < 0:
        return s.FeedOut(events=[], last=await asyncio.to_thread(_last_seq, hub))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        events = await asyncio.to_thread(_read, hub, who, after)
        last = max([after, *(e.seq for e in events)])
        if events or loop.time() >= deadline:
            return s.FeedOut(events=events, last=last)
        remaining = deadline - loop.time()
        if hub.notifier is not None:
            await hub.notifier.wait(min(remaining, hub.poll_seconds))
        else:
            await asyncio.sleep(min(remaining, hub.poll_seconds))
