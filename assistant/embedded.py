"""The embedded set-up: the hub in-process on a local database, with the demo accounts."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from orient.assistant import demo_accounts, demo_world
from orient.assistant.client import HubClient
from orient.assistant.hub.app import Hub, create_app
from orient.assistant.service import paris_now
from orient.assistant.store.db import close_engine, default_db_path, open_engine
from orient.assistant.store.tokens import issue_token

DEMO_ACCOUNTS = {
    "doctor": demo_accounts.DEMO_DOCTOR,
    "secretary": demo_accounts.DEMO_SECRETARY,
    "receiver": demo_accounts.DEMO_RECEIVER,
    "admin": demo_accounts.DEMO_ADMIN,
}


def default_outbox_path() -> Path:
    return default_db_path().parent / "outbox.json"


class Embedded:
    """A hub on a local database and clients for the demo users, no port opened."""

    def __init__(self, db: str | os.PathLike[str] | None = None, *,
                 clock: Callable[[], datetime] = paris_now, outbox: Path | None = None,
                 engine: DbEngine | None = None, notify: bool = True) -> None:
        self.engine = engine if engine is not None else open_engine(db)
        with Session(self.engine) as session:
            demo_world.ensure_demo_accounts(session)
        self.hub = Hub(self.engine, clock=clock)
        from orient.assistant.notify import configured

        # e-mail notifications, when ORIENT_SMTP_* says so (never for the kiosk's synthetic patients)
        if notify and configured():
            from orient.assistant.notify.worker import mailer_from_env

            self.hub.mailer = mailer_from_env(self.hub)
        if self.hub.mailer is not None:
            self.hub.mailer.start()
        self.app = create_app(self.hub)
        self.outbox = outbox

    @classmethod
    def on_engine(cls, engine: DbEngine, **kwargs: object) -> Embedded:
        return cls(engine=engine, **kwargs)  # type: ignore[arg-type]

    def token(self, role: str, label: str = "démo") -> str:
        """A fresh short-lived token for a demo user."""
        with Session(self.engine) as session:
            _, token = issue_token(session, DEMO_ACCOUNTS[role].user_id, ttl=timedelta(hours=12),
                                   label=label, now=self.hub.now(), delivery="embedded")
            session.commit()
        return token

    def client(self, role: str, label: str = "démo") -> HubClient:
        return HubClient.in_process(self.app, self.token(role, label), outbox=self.outbox)

    def units_with_referrals(self) -> list[Any]:
        """The units that have received a referral (demo_units.UnitWithReferrals), for the demo's
        choice of the unit to answer as."""
        from orient.assistant.demo_units import units_with_referrals

        with Session(self.engine) as session:
            return list(units_with_referrals(session))

    def unit_client(self, unit_id: str, label: str = "démo") -> tuple[HubClient, str]:
        """A client for the demo account of one unit (bound to it alone), and the account's name."""
        from orient.assistant.demo_units import ensure_unit_account

        with Session(self.engine) as session:
            user_id, name = ensure_unit_account(session, unit_id, self.hub.now())
            _, token = issue_token(session, user_id, ttl=timedelta(hours=12), label=label,
                                   now=self.hub.now())
            session.commit()
        return HubClient.in_process(self.app, token, outbox=self.outbox), name

    def warm(self) -> None:
        """Load the hub's lookups now (see DossierService.warm)."""
        self.hub.service.warm()

    def close(self) -> None:
        if self.hub.mailer is not None:
            self.hub.mailer.stop()
        close_engine(self.engine)
