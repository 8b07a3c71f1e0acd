"""Customers page: grades, RFM segments and lifecycle stages of the customers the user's reps sell to.

Recency, frequency and monetary value come from one GROUP BY over credited lines (last order date,
distinct orders and amount in the last 12 months, `attain.catalog.activity.customer_activity`); the
quintile scores and segments are NumPy (`attain.catalog.grading`, shared with `attain report customers`).

The scores rank every customer in scope, so the graded list is computed whole (and kept per process
for the data revision, `attain.web.cache`: paging and searching do not grade again); the search is a
SELECT on the customers' codes and names (`attain.catalog.activity.search_customers`) and the page
shows PAGE_SIZE rows of the result."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from attain.catalog import grading
from attain.catalog.activity import (
    CustomerActivity,
    customer_activity,
    search_customers,
)
from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.web import cache
from attain.web.deps import AccessDep
from attain.web.pages.common import chart_json, parse_as_of, render_page

router = APIRouter(include_in_schema=False)
WINDOW_DAYS = 365
PAGE_SIZE = 50
MAX_SEARCH = 100
SEGMENT_LABELS = grading.RFM_SEGMENTS | {"prospect": ("潜在", "prospect")}
ROWS_CACHE: cache.TtlLru[list[CustomerRow]] = cache.TtlLru()


@dataclass(frozen=True)
class CustomerRow:
    activity: CustomerActivity
    recency_days: int | None
    r: int
    f: int
    m: int
    segment: str
    lifecycle: str


def customer_rows(*, session: Session, scope: OrgNode | None, as_of: date) -> list[CustomerRow]:
    """Every customer in scope with RFM scores (buyers only; 0 for prospects), segment and lifecycle."""
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    found = customer_activity(session=session, scope=scope, since=since, as_of=as_of)
    buyers = [a for a in found if a.last_order is not None and a.orders > 0]
    recency = np.array([(as_of - a.last_order).days for a in buyers], dtype=np.float64)  # type: ignore[operator]
    frequency = np.array([a.orders for a in buyers], dtype=np.float64)
    monetary = np.array([a.amount for a in buyers], dtype=np.float64)
    r = grading.quintile_scores(recency, higher_is_better=False)
    f = grading.quintile_scores(frequency)
    m = grading.quintile_scores(monetary)
    segments = grading.rfm_segments(r, f, m)
    scored = {a.customer_id: (int(r[i]), int(f[i]), int(m[i]), segments[i]) for i, a in enumerate(buyers)}
    rows = []
    for a in found:
        first = (as_of - a.first_order).days if a.first_order else None
        last = (as_of - a.last_order).days if a.last_order else None
        rs, fs, ms, segment = scored.get(a.customer_id, (0, 0, 0, "lost" if a.last_order else "prospect"))
        rows.append(CustomerRow(a, last, rs, fs, ms, segment, grading.lifecycle_stage(first, last)))
    return sorted(rows, key=lambda row: (-row.activity.amount, row.activity.code))


def _summary(rows: list[CustomerRow]) -> dict[str, Any]:
    grades = Counter(row.activity.grade or "-" for row in rows)
    segments = Counter(row.segment for row in rows)
    lifecycle = Counter(row.lifecycle for row in rows)
    amount_by_segment: dict[str, int] = {}
    for row in rows:
        amount_by_segment[row.segment] = amount_by_segment.get(row.segment, 0) + row.activity.amount
    return {"grades": dict(sorted(grades.items())), "segments": segments, "lifecycle": lifecycle,
            "amount_by_segment": amount_by_segment}


def cached_customer_rows(*, session: Session, scope: OrgNode | None, as_of: date) -> list[CustomerRow]:
    """`customer_rows`, from the per-process cache at the same data revision (the caller checked access)."""
    key = ("customers", scope.id if scope is not None else None, as_of)
    return cache.cached(ROWS_CACHE, session, key, lambda: customer_rows(session=session, scope=scope, as_of=as_of))


@router.get("/customers", response_class=HTMLResponse)
def customers_page(request: Request, access: AccessDep, node: str | None = None, as_of: str | None = None,
                   segment: str | None = None, q: str | None = None,
                   page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    day = parse_as_of(as_of)
    if segment is not None and segment not in SEGMENT_LABELS:
        raise InvalidInput.coded("web.pages.customers.unknown_segment_choose_one", segment=segment[:40], items=', '.join(SEGMENT_LABELS))
    scope = access.node(node) if node else access.home()
    search = (q or "").strip()
    if len(search) > MAX_SEARCH:
        raise InvalidInput.coded("web.pages.customers.customer_search_most_characters", max_search=MAX_SEARCH)
    rows = cached_customer_rows(session=access.session, scope=None if scope.parent_id is None else scope, as_of=day)
    summary = _summary(rows)
    found = [r for r in rows if segment is None or r.segment == segment]
    if search:
        matching = search_customers(session=access.session, text=search)
        found = [r for r in found if r.activity.customer_id in matching]
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    pie = chart_json({
        "tooltip": {"trigger": "item"},
        "series": [{"type": "pie", "radius": ["40%", "70%"], "data": [
            {"name": key, "value": count} for key, count in summary["segments"].most_common()
        ]}],
    })
    return render_page(request, "pages/customers.html", {
        "scope": scope, "as_of": day, "rows": shown, "count": len(rows), "summary": summary, "segment": segment,
        "segment_labels": SEGMENT_LABELS, "lifecycle_labels": grading.LIFECYCLE,
        "pie": pie, "window": WINDOW_DAYS, "q": search, "page": page, "pages": pages, "found": len(found),
        "first_row": (page - 1) * PAGE_SIZE + 1,
    })
