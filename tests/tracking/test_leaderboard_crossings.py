"""The 战报墙's celebrations: a row crossing 50 % or 100 % of its target on a day, from the tracking
leaderboard's milestones (the page only shows them)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from attain.periods import parse_period
from attain.tracking.leaderboard import CELEBRATED, crossings, leaderboard

AS_OF = date(2026, 11, 23)


def test_crossings_are_the_halfway_and_target_marks_first_reached_that_day(demo: Session) -> None:
    board = leaderboard(session=demo, period=parse_period("2026-10"), by="rep", as_of=AS_OF)
    marks = {(leader.row.node_id, share): day for leader in board.rows for share, day in leader.milestones.reached
             if share in CELEBRATED and day is not None}
    assert marks, "the demo's reps reach halfway in October"
    for day in sorted(set(marks.values())):
        found = crossings(board, on=day)
        assert {(c.leader.row.node_id, c.share) for c in found} == {k for k, d in marks.items() if d == day}
        assert all(c.day == day for c in found)
        assert [c.share for c in found] == sorted((c.share for c in found), reverse=True)
    quiet = [d for d in (date(2026, 10, 1) + timedelta(days=i) for i in range(31)) if d not in set(marks.values())]
    assert all(crossings(board, on=d) == () for d in quiet)
    # 25 % and 75 % are reached too, but not celebrated.
    assert all(c.share in (Decimal("0.50"), Decimal("1.00")) for d in set(marks.values()) for c in crossings(board, on=d))
