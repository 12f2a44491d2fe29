"""The app factory `orient serve` hands to uvicorn (an import string, so that several worker
processes can each build their own hub on the same database)."""

from __future__ import annotations

import gc
import logging
import os

from fastapi import FastAPI

from orient.assistant.hub.app import Hub, create_app
from orient.assistant.hub.psc import PscClient
from orient.assistant.hub.psc_settings import load_settings
from orient.assistant.store.db import open_engine

DB_VARIABLE = "ORIENT_HUB_DB"


def app_from_env() -> FastAPI:
    if not logging.getLogger().handlers:  # a worker process: same log lines as a single process
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    hub = Hub(open_engine(os.environ.get(DB_VARIABLE) or None))
    settings = load_settings()
    if settings.enabled:  # Pro Santé Connect (ORIENT_PSC_* or ORIENT_PSC_CONFIG, docs/psc.md)
        hub.psc = PscClient(settings)
    from orient.assistant.notify.worker import mailer_from_env

    hub.mailer = mailer_from_env(hub)  # e-mail notifications (ORIENT_SMTP_*), started by the app
    # what the first requests would otherwise load while people wait (the commune table, the
    # ICD-10 index, the directory's matching index): a server loads it before taking requests
    hub.service.warm()
    hub.service.directory()
    app = create_app(hub)
    # What is loaded now stays for the life of the process: out of the garbage collector's
    # rounds, which would otherwise walk it again and again (gc.freeze, as for forking servers).
    gc.freeze()
    return app
