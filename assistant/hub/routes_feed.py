"""The live feed (long polling): a client asks for the events after the last one it saw and the
hub answers as soon as there are some, or after `wait` seconds with none. Events are rows of the
database, so every hub process sees them; on PostgreSQL a NOTIFY wakes waiting requests at once
(`orient.assistant.hub.notify`), elsewhere they look again every `poll_seconds`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import func, select
from sqlmodel import Session

from orient.assistant.hub import schemas as s
from orient.assistant.hub.access import BadRequest, Hub, hub_of, owners_of, principal
from orient.assistant.hub.auth import Principal
from orient.assistant.hub.cursors import CursorError, FeedCursors
from orient.assistant.store.hub_keys import hub_key
from orient.assistant.store.tables import FeedEventRow
from orient.models.users import Role

router = APIRouter(tags=["fil"])
FEED = FeedEventRow.__table__  # type: ignore[attr-defined]


def _visible(session: Session, hub: Hub, who: Principal) -> Any:
    """The condition on feed rows that this caller may see, or None when they may see none (an
    admin, a secretary without an active delegation, a receiver without a unit)."""
    if who.role == Role.RECEIVER:
        return FEED.c.unit_id.in_(list(who.unit_ids)) if who.unit_ids else None
    if who.role in (Role.DOCTOR, Role.SECRETARY):
        owners = owners_of(session, who, hub)
        return FEED.c.owner_rpps.in_(owners) if owners else None
    return None


def _events(session: Session, hub: Hub, who: Principal, after: int) -> list[Any] | None:
    """The caller's events after position `after`; None when they may see none at all."""
    visible = _visible(session, hub, who)
    if visible is None:
        return None
    return list(session.connection().execute(
        select(FEED).where(FEED.c.seq > after, visible).order_by(FEED.c.seq).limit(500)))


def _own_last(hub: Hub, who: Principal) -> int:
    """The position of the caller's latest event (0: none yet): where "-1" starts from. Never the
    feed's global position, which counts everybody's events."""
    with hub.read_session() as session:
        visible = _visible(session, hub, who)
        if visible is None:
            return 0
        found = session.connection().execute(select(func.max(FEED.c.seq)).where(visible)).scalar()
        return int(found or 0)


def _read(hub: Hub, who: Principal, after: int) -> list[Any] | None:
    with hub.read_session() as session:
        return _events(session, hub, who, after)


def _cursors(hub: Hub) -> FeedCursors:
    if hub.feed_cursors is None:
        hub.feed_cursors = FeedCursors(hub_key(hub.db, "feed_cursor"))
    cursors: FeedCursors = hub.feed_cursors
    return cursors


@router.get("/feed", response_model=s.FeedOut)
async def feed(request: Request,
               after: int = Query(-1, ge=-1, le=2**62, description=(
                   "-1: no event, only the current position; 0: from the start; else a cursor "
                   "(`last` or an event's `seq`) received from this feed by the same caller")),
               wait: float = Query(20.0, ge=0, le=30), who: Principal = Depends(principal)) -> s.FeedOut:
    """Events after `after`. Positions are cursors of the caller's own: they reveal nothing of
    other callers' events (hub/cursors.py)."""
    hub = hub_of(request)
    cursors = hub.feed_cursors or await asyncio.to_thread(_cursors, hub)
    if after < 0:
        own = await asyncio.to_thread(_own_last, hub, who)
        return s.FeedOut(events=[], last=cursors.encode(who.user_id, own) if own else 0)
    try:
        position = cursors.decode(who.user_id, after) if after else 0
    except CursorError as exc:
        raise BadRequest(str(exc)) from None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        rows = await asyncio.to_thread(_read, hub, who, position)
        if rows is None:  # nothing this caller may ever see: no reason to keep them waiting
            return s.FeedOut(events=[], last=after)
        if rows or loop.time() >= deadline:
            events = [s.FeedEventOut(seq=cursors.encode(who.user_id, r.seq), at=r.at, kind=r.kind,
                                     dossier_id=r.dossier_id, referral_id=r.referral_id,
                                     unit_id=r.unit_id, status=r.status) for r in rows]
            return s.FeedOut(events=events, last=events[-1].seq if events else after)
        remaining = deadline - loop.time()
        if hub.notifier is not None:
            await hub.notifier.wait(min(remaining, hub.poll_seconds))
        else:
            await asyncio.sleep(min(remaining, hub.poll_seconds))
