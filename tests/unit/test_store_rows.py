"""Rows built without the ORM (`model_construct`, as the send path does) in a fresh process."""

from __future__ import annotations

import subprocess
import sys


def test_constructed_row_reads_its_attributes_before_any_orm_use() -> None:
    # A new interpreter: no ORM instance or query has configured the mappers yet.
    code = (
        "from orient.assistant.store.tables import ReferralRow\n"
        "row = ReferralRow.model_construct(id='r1', unit_id='u1', status='sent')\n"
        "print(row.unit_id, row.status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["u1", "sent"]
