"""Incentives: plans, statements and what-if, as `attain incentive … --json` prints them.

The same service and the same access rules as the pages: a rep gets only their own statement and
what-if, a manager their team's, a director their region's or the company's; anyone else's code
answers 404. Money is integer fen.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from attain.incentives import service
from attain.web.api.common import ERROR_RESPONSES, AsOfParam, date_of, jsonable
from attain.web.deps import AccessDep

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES, 409: {"description": "The plan has no approved version yet (nothing is paid on it)"}}
router = APIRouter(prefix="/incentives", tags=["incentives"], responses=RESPONSES)

SETTLEMENT_PATTERN = r"^(19\d\d|2\d\d\d)(Q[1-4]|-(0[1-9]|1[0-2]))$"
PlanName = Annotated[str, Path(min_length=1, max_length=100, description="Incentive plan name")]
SettlementPeriod = Annotated[str, Path(min_length=6, max_length=7, pattern=SETTLEMENT_PATTERN,
                                       description="Settlement period of the plan: 2026Q3 (quarterly) or 2026-07 (monthly)")]
RepCode = Annotated[str, Path(min_length=1, max_length=64, description="Org node code of the participant")]
# Extra credited sales in fen (10,000,000 = 100,000 yuan), at most 10^14 fen.
Extra = Annotated[int, Query(ge=0, le=10**14, description="Extra credited sales in fen")]


@router.get("", summary="Incentive plans")
def list_incentive_plans(access: AccessDep) -> dict[str, Any]:
    """Every incentive plan: newest version and status, the version in force, participants, components."""
    return {"plans": jsonable(service.list_plans(session=access.session))}


@router.get("/{name}/statements/{period}", summary="Statements of a settlement period")
def incentive_statements(access: AccessDep, name: PlanName, period: SettlementPeriod, as_of: AsOfParam = None) -> dict[str, Any]:
    """The statements you may see (open periods computed up to `as_of`, closed ones frozen) and their total."""
    result = service.statements(session=access.session, name=name, period=period, as_of=date_of(as_of), user=access.user)
    return result.as_dict()


@router.get("/{name}/statements/{period}/{rep}", summary="One person's statement")
def incentive_statement(access: AccessDep, name: PlanName, period: SettlementPeriod, rep: RepCode,
                        as_of: AsOfParam = None) -> dict[str, Any]:
    """One statement with every line of the calculation; 404 for a person you may not see."""
    result = service.statements(session=access.session, name=name, period=period, rep=rep, as_of=date_of(as_of),
                                user=access.user)
    return {**result.as_dict(), "statement": result.statements[0].as_dict()}


# What `sale` holds (incentives.whatif.parse_sale): slices of a sale, comma-separated.
SALE_PATTERN = r"^((customer_type=(new|existing)|product_line=[^,=\s][^,=]*|customer_grade=[^,=\s][^,=]*)(,(customer_type=(new|existing)|product_line=[^,=\s][^,=]*|customer_grade=[^,=\s][^,=]*))*)?$"


@router.get("/{name}/what-if", summary="What-if: earned so far, the next band, what an extra sale pays")
def incentive_what_if(
    access: AccessDep, name: PlanName, extra: Extra = 0,
    rep: Annotated[str | None, Query(min_length=1, max_length=64, description="One participant (default: everyone you see)")] = None,
    period: Annotated[str | None, Query(max_length=7, json_schema_extra={"pattern": SETTLEMENT_PATTERN},
                                        description="Settlement period (default: the one holding as_of)")] = None,
    as_of: AsOfParam = None,
    sale: Annotated[str | None, Query(max_length=200, json_schema_extra={"pattern": SALE_PATTERN},
                                      description="Which sale: customer_type=new, product_line=CODE, customer_grade=A")] = None,
    team: Annotated[str | None, Query(min_length=1, max_length=64, description="Only the participants under this team or region")] = None,
) -> dict[str, Any]:
    """For `rep`, or for every participant you may see (a manager: the team), with every component."""
    day = date_of(as_of)
    if rep:
        found = [service.what_if(session=access.session, name=name, rep=rep, extra=extra, period=period or None,
                                 as_of=day, user=access.user, sale=sale or None)]
    else:
        found = service.team_what_if(session=access.session, name=name, extra=extra, period=period or None, as_of=day,
                                     user=access.user, sale=sale or None, team=team)
    return {"what_if": [w.as_dict() for w in found]}
