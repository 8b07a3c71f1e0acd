"""Settings of the funnel, registered on import (the CLI imports this module at start-up)."""

from __future__ import annotations

from attain.settings.service import register

PRIOR_WEIGHT = "funnel_prior_weight"
STALE_DAYS = "funnel_stale_days"


def _non_negative_int(value: object) -> int:
    number = int(str(value))
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


register(
    PRIOR_WEIGHT, 10,
    "Shrinkage of a rep's funnel rates and deal size toward the team (and the team's toward the company): "
    "the team figure counts as this many opportunities of the rep's own (0 = the rep's history alone).",
    _non_negative_int,
)
register(
    STALE_DAYS, 90,
    "An open opportunity whose stage has not moved for more than this many days counts as lost at its stage "
    "when the funnel learns its rates (0 = open opportunities never count as lost).",
    _non_negative_int,
)
