"""The store and the hub work on a real PostgreSQL server."""

from __future__ import annotations

import json
from pathlib import Path

from orient.assistant import replay
from orient.assistant.service import DossierService
from orient.assistant.store.db import open_engine

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "doctor_full.json"


def test_full_referral_on_postgresql(pg_url: str) -> None:
    engine = open_engine(pg_url)
    try:
        scenario = replay.parse_scenario(json.loads(SCENARIO.read_text(encoding="utf-8")))
        report = replay.run(scenario, DossierService(engine))
    finally:
        engine.dispose()
    assert report["status"] == "sent"
    assert len(report["referrals"]) == 2
    assert report["audit_ok"] is True
