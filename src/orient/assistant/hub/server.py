"""The app factory `orient serve` hands to uvicorn (an import string, so that several worker
processes can each build their own hub on the same database)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from orient.assistant.hub.app import Hub, create_app
from orient.assistant.store.db import open_engine

DB_VARIABLE = "ORIENT_HUB_DB"


def app_from_env() -> FastAPI:
    return create_app(Hub(open_engine(os.environ.get(DB_VARIABLE) or None)))
