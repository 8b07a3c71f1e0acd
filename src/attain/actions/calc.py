"""Daily action lists: planned activities per working day, what was done, and what rolls forward. Pure.

Arrays are (days, actions) for one rep and one week. A shortfall rolls forward to the next working
day: due(d) = planned(d) + shortfall(d - 1), shortfall(d) = max(0, due(d) - done(d)). Doing more than
due on a day is not banked for later days (the list asks for steady work, not a catch-up burst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from attain.errors import InvalidInput


@dataclass(frozen=True)
class Action:
    """One line of the list: the funnel stage it feeds and the activity kind that checks it off."""

    key: str
    stage: str
    activity_kind: str
    label: str


# In the order the list is shown; the stage is the funnel stage whose daily count it is.
ACTIONS: tuple[Action, ...] = (
    Action("prospect", "lead", "call", "新线索 leads (calls)"),
    Action("visit", "qualified", "visit", "拜访 visits"),
    Action("proposal", "proposal", "proposal", "方案 proposals"),
    Action("follow_up", "negotiation", "meeting", "跟进 follow-ups (meetings)"),
)


@dataclass(frozen=True)
class RollForward:
    due: NDArray[np.int64]  # (days, actions): planned + carried in
    carried: NDArray[np.int64]  # (days, actions): shortfall brought in from earlier working days
    remaining: NDArray[np.int64]  # (days, actions): still open at the end of the day
    complete: NDArray[np.bool_]  # (days,): a working day whose whole list was done


def roll_forward(planned: ArrayLike, done: ArrayLike, worked: ArrayLike) -> RollForward:
    """Carry each day's shortfall to the next working day; non-working days are skipped (nothing due,
    nothing carried through them is lost)."""
    planned_counts = np.asarray(planned, dtype=np.int64)
    done_counts = np.asarray(done, dtype=np.int64)
    worked_days = np.asarray(worked, dtype=bool)
    if planned_counts.ndim != 2 or planned_counts.shape != done_counts.shape or worked_days.shape != planned_counts.shape[:1]:
        raise InvalidInput.coded("actions.planned_done_working_days", shape=planned_counts.shape, shape2=done_counts.shape, shape3=worked_days.shape)
    if np.any(planned_counts < 0) or np.any(done_counts < 0):
        raise InvalidInput.coded("actions.planned_done_counts_negative")
    due = np.zeros_like(planned_counts)
    carried = np.zeros_like(planned_counts)
    remaining = np.zeros_like(planned_counts)
    shortfall = np.zeros(planned_counts.shape[1], dtype=np.int64)
    for day in range(planned_counts.shape[0]):  # at most 7 days; each depends on the one before
        if not worked_days[day]:
            remaining[day] = shortfall
            continue
        carried[day] = shortfall
        due[day] = planned_counts[day] + shortfall
        shortfall = np.maximum(due[day] - done_counts[day], 0)
        remaining[day] = shortfall
    complete = worked_days & np.all(remaining == 0, axis=1)
    return RollForward(due, carried, remaining, complete)


def current_streak(complete: ArrayLike, worked: ArrayLike, include_last: bool = True) -> int:
    """Consecutive completed working days counted back from the last day (non-working days neither
    break nor extend a streak). With `include_last` False an unfinished last day does not break it
    (the day is still running)."""
    complete_days = np.asarray(complete, dtype=bool)
    worked_days = np.asarray(worked, dtype=bool)
    flags = complete_days[worked_days]
    if flags.size and not include_last and not flags[-1]:
        flags = flags[:-1]
    misses = np.flatnonzero(~flags)
    return int(flags.size if misses.size == 0 else flags.size - 1 - misses[-1])
