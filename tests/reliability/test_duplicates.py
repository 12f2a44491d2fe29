"""Duplicate suspicion in the store: a sent dossier still counts while one of its referrals may
bring the patient in, and no longer once every referral has ended."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from orient.assistant import demo_accounts, replay
from orient.assistant.service import DossierService
from orient.assistant.store import dossiers
from orient.assistant.store.db import open_engine

OWNERS = [demo_accounts.DEMO_DOCTOR.rpps]
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "doctor_full.json"


def test_a_sent_dossier_is_a_duplicate_while_a_referral_is_pending(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "o.db")
    try:
        sent_id, report = replay.run_dossier(replay.load_scenario(SCENARIO), DossierService(engine))
        assert report["status"] == "sent" and len(report["referrals"]) == 2
        with Session(engine) as session:
            traits = {k: v for k, v in dossiers.load(session, sent_id).answers.items()
                      if k in ("patient.birth_name", "patient.first_names", "patient.birth_date",
                               "patient.sex")}
            assert dossiers.find_duplicates(session, "another", traits, owners=OWNERS) == [sent_id]
            # one refused, one still read: still pending
            session.connection().execute(text(
                "UPDATE referral SET status = 'refused' WHERE id = :id"), {"id": report["referrals"][0]["id"]})
            assert dossiers.find_duplicates(session, "another", traits, owners=OWNERS) == [sent_id]
            # every referral ended: the patient is not on the way anywhere
            session.connection().execute(text("UPDATE referral SET status = 'cancelled'"))
            assert dossiers.find_duplicates(session, "another", traits, owners=OWNERS) == []
            # another person: never
            assert dossiers.find_duplicates(session, "another", {**traits, "patient.sex": "M"}, owners=OWNERS) == []
    finally:
        engine.dispose()
