"""The 战报墙 segment filter (issue 17): the ranking on the sales to one customer segment, the same
rows as `tracking.leaderboard(customers=("segment", …))`, amounts still only on the viewer's own
rows, and a clear error for a segment no customer has; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode
from attain.periods import parse_period
from attain.tracking.leaderboard import leaderboard

AS_OF = date(2026, 11, 23)
BIG = quote("大客户")


def _codes(page: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-code="([^"]+)">', page)


def test_segment_filter_ranks_the_sales_to_that_segment(client_for, demo_url) -> None:  # type: ignore[no-untyped-def]
    page = client_for("director").get(f"/leaderboard?as_of={AS_OF}&period=2026&segment={BIG}")
    assert page.status_code == 200
    assert 'data-testid="segment-filter"' in page.text and re.search(r'<option value="大客户"\s+selected>', page.text)
    assert "客户细分" in page.text and "全部客户" in page.text
    session = make_session_factory(get_engine(demo_url))()
    try:
        board = leaderboard(session=session, period=parse_period("2026"), as_of=AS_OF, customers=("segment", "大客户"))
        codes = [session.get(OrgNode, row.row.node_id).code for row in board.rows]  # type: ignore[union-attr]
        everyone = leaderboard(session=session, period=parse_period("2026"), as_of=AS_OF)
    finally:
        session.close()
    assert _codes(page.text) == codes and len(codes) > 10
    # Not the plain ranking: sales to 大客户 are a part of each rep's sales.
    assert sum(int(r.row.actual) for r in board.rows) < sum(int(r.row.actual) for r in everyone.rows)
    board_fragment = client_for("director").get(f"/leaderboard/board?as_of={AS_OF}&period=2026&segment={BIG}")
    assert f"segment={BIG}" in board_fragment.text  # the 60-second refresh keeps the filter


def test_segment_filter_keeps_other_reps_amounts_hidden(client_for, demo_codes) -> None:  # type: ignore[no-untyped-def]
    page = client_for("rep").get(f"/leaderboard?as_of={AS_OF}&period=2026&segment={BIG}")
    rows = re.findall(r'<tr class="[^"]*" data-code="([^"]+)">(.*?)</tr>', page.text, re.DOTALL)
    assert rows
    for code, body in rows:
        has_amount = bool(re.search(r'<td class="num">\s*[\d,]+\.\d\d\s*</td>', body))
        assert has_amount == (code == demo_codes["rep"]), code


def test_unknown_segment_is_a_clear_422(client_for) -> None:  # type: ignore[no-untyped-def]
    answer = client_for("admin").get(f"/leaderboard?as_of={AS_OF}&segment={quote('大 客户')}", headers={"hx-request": "true"})
    assert answer.status_code == 422 and "没有客户的 分群 是 '大 客户'" in answer.json()["detail"]
    api = client_for("admin").get(f"/api/v1/leaderboard?as_of={AS_OF}&segment={quote('大 客户')}")
    assert api.status_code == 422 and "no customer has segment '大 客户'" in api.text
