"""The statistics' pure parts: percentiles, Paris months, the figures of a few referrals, their
French writing; and plotext loaded only by the statistics screen (the first screen and the other
screens do not pay for it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from orient.assistant import stats_text as fr
from orient.assistant.store import referral_stats as rs
from orient.assistant.store.tables import ReferralRow

NBSP = "\u00a0"
T0 = datetime(2026, 10, 31, 22, 30, tzinfo=UTC)  # 31/10 23:30 in Paris


def row(unit: str, status: str, sent: datetime, *, read: float | None = None, answered: float | None = None,
        reason: str | None = None, hours: int = 4, question: str | None = None) -> ReferralRow:
    return ReferralRow.model_construct(
        unit_id=unit, owner_rpps="10003456786", status=status, reason=reason, timing="within_24h",
        sent_at=sent, deadline_at=sent + timedelta(hours=hours), question=question,
        read_at=sent + timedelta(minutes=read) if read is not None else None,
        answered_at=sent + timedelta(minutes=answered) if answered is not None else None)


def test_percentile_and_delay() -> None:
    assert rs.percentile([10.0], 0.9) == 10.0
    assert rs.percentile([30.0, 40.0, 300.0], 0.9) == pytest.approx(248.0)
    assert rs.delay([]) == rs.Delay(0, None, None)
    assert rs.delay([30.0, 90.0, 40.0, 300.0]) == rs.Delay(4, 65.0, 237.0)


def test_months_follow_paris_time() -> None:
    assert rs.month_of(T0) == "2026-10"
    assert rs.month_of(T0 + timedelta(hours=1)) == "2026-11"  # 00:30 on 1 November in Paris
    assert rs.months_between("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert rs.parse_month(" 2026-11 ", "from") == "2026-11" and rs.parse_month(None, "from") is None
    for bad in ("2026-13", "11-2026", "2026-1", "1999-12", "n'importe"):
        with pytest.raises(rs.StatsError, match="AAAA-MM"):
            rs.parse_month(bad, "from")


def test_figures_of_a_few_referrals() -> None:
    now = T0 + timedelta(days=2)
    rows = [
        row("A", "refused", T0, read=10, answered=30, reason="no_bed"),
        row("B", "closed", T0, read=60, answered=90),  # accepted, then admitted and closed
        row("A", "accepted", T0 + timedelta(hours=1), read=20, answered=40, question="Poids ?"),
        row("A", "refused", T0 + timedelta(days=1), read=5, answered=300, reason="other"),  # late
        row("B", "sent", T0 + timedelta(days=1)),  # overdue
        row("B", "cancelled", T0 + timedelta(days=1), read=3),
    ]
    st = rs.compute(rows, now)
    t = st.total
    assert (t.sent, t.read, t.answered, t.accepted, t.refused, t.cancelled) == (6, 5, 4, 2, 2, 1)
    assert (t.overdue, t.answered_late, t.info_requested, t.acceptance_rate) == (1, 1, 1, 0.5)
    assert t.refused_by_reason == {"no_bed": 1, "other": 1}
    assert st.by_unit["A"].answer_delay == rs.Delay(3, 40.0, 248.0)
    assert st.by_unit["B"].acceptance_rate == 1.0
    assert list(st.by_month) == ["2026-10", "2026-11"]
    assert st.by_month["2026-10"].sent == 2 and st.by_month["2026-11"].sent == 4
    assert st.by_unit_month[("A", "2026-11")].answer_delay.median_minutes == 170.0
    assert rs.compute(rows, now, first="2026-11").total.sent == 4
    assert rs.compute(rows, now, last="2026-10").total.sent == 2
    # months without referrals between two months with some are listed, empty
    later = [*rows, row("A", "sent", T0 + timedelta(days=70))]
    assert list(rs.compute(later, now).by_month) == ["2026-10", "2026-11", "2026-12", "2027-01"]
    assert rs.compute(later, now).by_month["2026-12"].sent == 0


def test_french_writing() -> None:
    assert fr.duration_fr(None) == "—"
    assert fr.duration_fr(0.4).replace(NBSP, " ") == "< 1 min"
    assert fr.duration_fr(45).replace(NBSP, " ") == "45 min"
    assert fr.duration_fr(65).replace(NBSP, " ") == "1 h 05"
    assert fr.duration_fr(1600).replace(NBSP, " ") == "26 h 40"
    assert fr.percent_fr(1 / 3).replace(NBSP, " ") == "33,3 %"
    assert fr.percent_fr(0.5).replace(NBSP, " ") == "50 %" and fr.percent_fr(None) == "—"
    assert fr.decimal_fr(12.25, 2) == "12,25" and fr.decimal_fr(2.0) == "2"
    assert fr.number_fr(12345) == "12\u202f345"
    assert fr.month_fr("2026-02") == "févr. 2026" and fr.month_fr("2026-12", short=True) == "déc. 26"
    assert fr.reasons_fr({"refused_by_reason": {"other": 1, "no_bed": 2}}) == \
        "Pas de lit disponible : 2 ; Autre : 1"


def test_plotext_is_loaded_by_the_statistics_screen_only() -> None:
    code = (
        "import sys, json\n"
        "import orient.assistant.tui.app, orient.assistant.hub.app, orient.assistant.cli\n"
        "from orient.assistant.tui.screens import home, dashboard, inbox, chat, who\n"
        "before = sorted(m for m in sys.modules if m.split('.')[0] in ('plotext', 'textual_plotext'))\n"
        "import orient.assistant.tui.screens.stats\n"
        "after = sorted(m for m in sys.modules if m.split('.')[0] in ('plotext', 'textual_plotext'))\n"
        "print(json.dumps([before, bool(after)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ))
    before, after = json.loads(out.stdout)
    assert before == [] and after is True
