"""The dashboard figures cache (`attain.web.cache`): served from the cache while nothing changed,
recomputed after a new row in any table the figures read, after the TTL, never when turned off, and
never a way around the access check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from attain.auth import service as auth
from attain.catalog.models import Customer, ProductNode
from attain.credit.models import (
    Assignment,
    CreditRule,
    CreditSplit,
    CurrencyRate,
    RepPosition,
    ReturnedOrder,
    TeamOverlay,
)
from attain.db import get_engine, make_session_factory
from attain.facts.models import Activity, Opportunity, OrderLine
from attain.imports.models import ImportRun
from attain.metrics.models import Metric
from attain.org.models import OrgNode, RepTerritory
from attain.plans.models import Plan, PlanCell, PlanCellChange, PlanVersion
from attain.settings.models import Setting
from attain.web import cache
from attain.web.app import create_app
from attain.web.pages import dashboard as dashboard_page
from tests.databases import demo_database
from tests.web.conftest import DEMO_AS_OF

AS_OF = f"as_of={DEMO_AS_OF.isoformat()}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cache_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo company of its own: these tests add rows, which the shared demo database must not see."""
    with demo_database(request.param, tmp_path_factory.mktemp("cache"), "attain_cache", as_of=DEMO_AS_OF) as url:
        yield url


@pytest.fixture(scope="module")
def cache_app(cache_db: str) -> FastAPI:
    return create_app(cache_db)


@pytest.fixture(scope="module")
def tokens(cache_db: str) -> dict[str, str]:
    with make_session_factory(get_engine(cache_db))() as session:
        return {name: auth.create_token(session=session, user=auth.require_user(session=session, username=name))
                for name in ("rep", "manager", "admin")}


@pytest.fixture
def db(cache_db: str) -> Iterator[Session]:
    with make_session_factory(get_engine(cache_db))() as session:
        yield session


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The codes of the nodes whose figures were computed (not served from the cache), in order; the
    cache starts empty, with a clock the test moves, and the default TTL."""
    monkeypatch.delenv(cache.TTL_ENV, raising=False)
    monkeypatch.setattr(dashboard_page, "FIGURES_CACHE", cache.TtlLru(clock=Clock()))
    calls: list[str] = []
    real = dashboard_page.dashboard_data

    def counting(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["node"].code)
        return real(**kwargs)

    monkeypatch.setattr(dashboard_page, "dashboard_data", counting)
    yield calls


def _get(app: FastAPI, token: str, query: str = "") -> dict:  # type: ignore[type-arg]
    response = TestClient(app, headers={"Authorization": f"Bearer {token}"}).get(f"/api/v1/dashboard?{AS_OF}{query}")
    assert response.status_code == 200, response.text[:300]
    return response.json()  # type: ignore[no-any-return]


def _rep_node(session: Session, code: str = "R002") -> OrgNode:
    return session.scalars(select(OrgNode).where(OrgNode.code == code)).one()


def test_the_second_request_is_served_from_the_cache(cache_app, tokens, computed) -> None:  # type: ignore[no-untyped-def]
    first = _get(cache_app, tokens["rep"])
    assert _get(cache_app, tokens["rep"]) == first
    assert computed == ["R002"]


def test_the_page_and_the_api_share_the_entry(cache_app, tokens, computed) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import DEMO_PASSWORDS, sign_in

    body = _get(cache_app, tokens["manager"])
    browser = TestClient(cache_app)
    sign_in(browser, "manager", DEMO_PASSWORDS["manager"])
    page = browser.get(f"/dashboard?{AS_OF}")
    assert page.status_code == 200 and body["rows"][0]["node"]["name"] in page.text
    assert computed == ["EAST-T1"]


def test_a_manager_drilling_into_a_rep_reuses_the_reps_figures(cache_app, tokens, computed) -> None:  # type: ignore[no-untyped-def]
    own = _get(cache_app, tokens["rep"])
    assert _get(cache_app, tokens["manager"], "&node=R002") == own
    assert computed == ["R002"]


def test_another_day_or_plan_version_is_another_entry(cache_app, tokens, computed, db) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(cache_app, headers={"Authorization": f"Bearer {tokens['rep']}"})
    assert client.get("/api/v1/dashboard?as_of=2026-11-23").status_code == 200
    assert client.get("/api/v1/dashboard?as_of=2026-11-22").status_code == 200
    assert computed == ["R002", "R002"]
    plan = db.scalars(select(Plan).where(Plan.name == "FY2026")).one()
    key = ("dashboard", _rep_node(db).id, plan.id, plan.version + 1, DEMO_AS_OF)
    assert dashboard_page.FIGURES_CACHE.get((cache.database_key(db), *key, cache.data_revision(db))) is None


def test_a_new_order_line_is_counted_on_the_next_request(cache_app, tokens, computed, db) -> None:  # type: ignore[no-untyped-def]
    before = _get(cache_app, tokens["rep"])
    rep = _rep_node(db)
    db.execute(insert(OrderLine).values(line_id="cache-test-1", order_id="cache-test-1", order_date=date(2026, 11, 2),
                                        rep_id=rep.id, amount=123_45))
    db.commit()
    after = _get(cache_app, tokens["rep"])
    assert computed == ["R002", "R002"]
    assert Decimal(after["summary"]["actual"]) - Decimal(before["summary"]["actual"]) == Decimal("123.45")


def test_an_import_or_a_plan_cell_change_recomputes(cache_app, tokens, computed, db) -> None:  # type: ignore[no-untyped-def]
    _get(cache_app, tokens["rep"])
    db.execute(insert(ImportRun).values(kind="orders", source="cache-test.csv", rows=0, inserted=0, updated=0, unchanged=0))
    db.commit()
    _get(cache_app, tokens["rep"])
    plan = db.scalars(select(Plan).where(Plan.name == "FY2026")).one()
    version = db.execute(insert(PlanVersion).values(
        plan_id=plan.id, version=999, action="edit", status=plan.status, changed_by="test",
        changed_at=datetime(2026, 11, 23))).inserted_primary_key[0]
    db.execute(insert(PlanCellChange).values(version_id=version, period="2026-12", org_node_id=_rep_node(db).id,
                                             customer_type="all", value_before=1, value_after=2))
    db.commit()
    _get(cache_app, tokens["rep"])
    assert computed == ["R002", "R002", "R002"]


def test_an_entry_past_the_ttl_is_served_once_more_and_refreshed_in_the_background(
    cache_app, tokens, computed, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv(cache.TTL_ENV, "30")
    clock = dashboard_page.FIGURES_CACHE.clock
    first = _get(cache_app, tokens["rep"])
    clock.now += 29.9  # type: ignore[attr-defined]
    _get(cache_app, tokens["rep"])
    assert computed == ["R002"]
    clock.now += 0.2  # type: ignore[attr-defined]  past the TTL: served as it was, recomputed off the request
    assert _get(cache_app, tokens["rep"]) == first
    cache.wait_for_refreshes()
    assert computed == ["R002", "R002"]
    _get(cache_app, tokens["rep"])  # the refreshed entry: nothing computed
    assert computed == ["R002", "R002"]
    clock.now += 61  # type: ignore[attr-defined]  past TTL and stale window: computed on the request
    _get(cache_app, tokens["rep"])
    assert computed == ["R002", "R002", "R002"]
    cache.wait_for_refreshes()
    assert computed == ["R002", "R002", "R002"]


def test_zero_seconds_turns_the_cache_off(cache_app, tokens, computed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(cache.TTL_ENV, "0")
    first = _get(cache_app, tokens["rep"])
    assert _get(cache_app, tokens["rep"]) == first
    assert computed == ["R002", "R002"] and len(dashboard_page.FIGURES_CACHE) == 0


def test_a_bad_ttl_is_an_error_that_names_the_variable(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(cache.TTL_ENV, "a minute")
    with pytest.raises(ValueError, match=cache.TTL_ENV):
        cache.ttl_seconds()


@pytest.mark.parametrize("path", ["/api/v1/dashboard", "/dashboard"])
def test_a_rep_gets_404_for_another_reps_cached_node(cache_app, tokens, computed, path: str) -> None:  # type: ignore[no-untyped-def]
    assert _get(cache_app, tokens["manager"], "&node=R003")["node"]["code"] == "R003"  # now cached
    response = TestClient(cache_app, headers={"Authorization": f"Bearer {tokens['rep']}"}).get(f"{path}?{AS_OF}&node=R003")
    assert response.status_code == 404
    assert "R003" in response.text and "0.00" not in response.text
    assert computed == ["R003"]


def test_the_cache_keeps_at_most_its_size_least_recently_used_out_first() -> None:
    store: cache.TtlLru[int] = cache.TtlLru(max_entries=3, clock=Clock())
    for key in "abc":
        store.put(key, ord(key), ttl=10)
    assert store.get("a") == ord("a")
    store.put("d", 4, ttl=10)
    assert len(store) == 3 and store.get("b") is None and store.get("a") == ord("a")


def _one_row_each(session: Session) -> dict[str, dict]:  # type: ignore[type-arg]
    """A valid new row for every table of the data revision."""
    node = _rep_node(session)
    region = session.scalars(select(OrgNode).where(OrgNode.kind == "region")).first()
    plan = session.scalars(select(Plan)).first()
    assert region is not None and plan is not None
    version = session.scalars(select(PlanVersion.id)).first()
    day = date(2026, 11, 1)
    return {
        "order_lines": {"line_id": "rev-1", "order_id": "rev-1", "order_date": day, "amount": 1},
        "import_runs": {"kind": "orders", "source": "rev.csv", "rows": 0, "inserted": 0, "updated": 0, "unchanged": 0},
        "plans": {"name": "rev-plan", "start_date": day, "end_date": day, "metric_id": plan.metric_id},
        "plan_versions": {"plan_id": plan.id, "version": 998, "action": "edit", "status": "draft",
                          "changed_by": "t", "changed_at": datetime(2026, 11, 1)},
        "plan_cells": {"plan_id": plan.id, "period": "2026-W01", "period_start": day, "period_end": day,
                       "org_node_id": node.id, "value": 1, "customer_type": "new"},
        "plan_cell_changes": {"version_id": version, "period": "2026-11", "org_node_id": node.id, "customer_type": "all"},
        "credit_rules": {"plan_id": plan.id},
        "credit_splits": {"order_id": "rev-1", "rep_id": node.id, "share_bp": 10000, "cum_from_bp": 0, "cum_to_bp": 10000},
        "credit_team_overlays": {"node_id": region.id, "rep_id": node.id, "share_bp": 100},
        "rep_positions": {"rep_id": node.id, "node_id": node.parent_id, "valid_from": day},
        "credit_assignments": {"rep_id": node.id, "region_id": region.id, "valid_from": day},
        "currency_rates": {"currency": "USD", "valid_from": date(1999, 1, 1), "rate": Decimal("7.1")},
        "opportunities": {"code": "rev-opp", "amount": 1, "stage": "lead", "created_on": day},
        "activities": {"code": "rev-act", "kind": "call", "activity_date": day},
        "org_nodes": {"code": "rev-node", "name": "rev", "kind": "rep", "parent_id": node.parent_id},
        "rep_territories": {"rep_id": node.id, "region_id": region.id},
        "customers": {"code": "rev-cust", "name": "rev"},
        "product_nodes": {"code": "rev-prod", "name": "rev"},
        "metrics": {"code": "rev-metric", "name": "rev", "aggregation": "sum", "unit": "fen", "source": "order_lines.amount"},
        "returned_orders": {"order_id": "rev-returned"},
        "settings": {"key": "rev-setting", "value": 1},
    }


def test_every_table_of_the_revision_is_covered_by_a_case() -> None:
    names = {t.name for t in (*cache.REVISION_TABLES, *cache.COUNTED_TABLES)}
    models = (OrderLine, ImportRun, Plan, PlanVersion, PlanCell, PlanCellChange, CreditRule, CreditSplit, TeamOverlay,
              RepPosition, Assignment, CurrencyRate, ReturnedOrder, Opportunity, Activity, OrgNode, RepTerritory,
              Customer, ProductNode, Metric, Setting)
    assert names == {m.__tablename__ for m in models}


@pytest.mark.parametrize("table", sorted(
    ["order_lines", "import_runs", "plans", "plan_versions", "plan_cells", "plan_cell_changes", "credit_rules",
     "credit_splits", "credit_team_overlays", "rep_positions", "credit_assignments", "currency_rates", "opportunities",
     "activities", "org_nodes", "rep_territories", "customers", "product_nodes", "metrics", "returned_orders", "settings"]))
def test_a_new_row_in_each_table_changes_the_revision(db: Session, table: str) -> None:
    tables = {t.name: t for t in (*cache.REVISION_TABLES, *cache.COUNTED_TABLES)}
    row = _one_row_each(db)[table]
    before = cache.data_revision(db)
    try:
        db.execute(insert(tables[table]).values(**row))
        assert cache.data_revision(db) != before
    finally:
        db.rollback()
    assert cache.data_revision(db) == before


def test_a_changed_setting_changes_the_revision(db: Session) -> None:
    db.execute(insert(Setting).values(key="rev-setting", value=1, updated_at=datetime(2020, 1, 1)))
    before = cache.data_revision(db)
    try:
        db.execute(Setting.__table__.update().where(Setting.key == "rev-setting").values(value=2))
        assert cache.data_revision(db) != before
    finally:
        db.rollback()


# --- the cached path: one revision read per short window, one token query, the JSON encoded once ---


@pytest.fixture
def revision_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[int], Clock]]:
    """How many times the data revision was read from the database, with a clock the test moves
    for the shared revision's window (default 0.25 s)."""
    monkeypatch.delenv(cache.REVISION_ENV, raising=False)
    clock = Clock()
    monkeypatch.setattr(cache, "REVISION_CLOCK", clock)
    reads: list[int] = []
    real = cache.data_revision

    def counting(session: Session):  # type: ignore[no-untyped-def]
        reads.append(1)
        return real(session)

    monkeypatch.setattr(cache, "data_revision", counting)
    cache.forget_revisions()
    yield reads, clock
    cache.forget_revisions()


def test_requests_within_the_window_share_one_revision_read(cache_app, tokens, computed, revision_reads) -> None:  # type: ignore[no-untyped-def]
    reads, clock = revision_reads
    for name in ("rep", "manager"):  # may commit the token's last use (once a minute), which forgets it
        _get(cache_app, tokens[name])
    cache.forget_revisions()
    reads.clear()
    _get(cache_app, tokens["rep"])
    clock.now += 0.2
    _get(cache_app, tokens["manager"])
    assert len(reads) == 1
    clock.now += 0.06  # the revision is 0.26 s old now
    _get(cache_app, tokens["rep"])
    assert len(reads) == 2


def test_a_commit_in_this_process_forgets_the_shared_revision(cache_app, tokens, computed, revision_reads, db) -> None:  # type: ignore[no-untyped-def]
    reads, _clock = revision_reads
    before = _get(cache_app, tokens["rep"])
    read_before = len(reads)
    db.execute(insert(OrderLine).values(line_id="cache-test-window", order_id="cache-test-window",
                                        order_date=date(2026, 11, 3), rep_id=_rep_node(db).id, amount=1_00))
    db.commit()
    after = _get(cache_app, tokens["rep"])  # same clock time: only the commit made it read again
    assert len(reads) == read_before + 1
    assert Decimal(after["summary"]["actual"]) - Decimal(before["summary"]["actual"]) == Decimal("1.00")
    assert computed == ["R002", "R002"]


def test_zero_revision_seconds_reads_it_on_every_request(cache_app, tokens, computed, revision_reads, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    reads, _clock = revision_reads
    monkeypatch.setenv(cache.REVISION_ENV, "0")
    _get(cache_app, tokens["rep"])  # computed
    reads.clear()
    for _ in range(3):
        _get(cache_app, tokens["rep"])
    assert len(reads) == 3 and computed == ["R002"]
    monkeypatch.setenv(cache.REVISION_ENV, "soon")
    with pytest.raises(ValueError, match=cache.REVISION_ENV):
        cache.revision_seconds()


def test_a_cached_request_sends_the_token_query_and_the_plan_query_only(cache_app, tokens, computed, revision_reads) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _get(cache_app, tokens["rep"])
    _get(cache_app, tokens["rep"])
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        _get(cache_app, tokens["rep"])
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    # The token's user and org node in one query (so the access check needs none), then the plan.
    assert len(statements) == 2, statements
    assert "FROM users JOIN api_tokens" in statements[0] and "org_nodes" in statements[0]
    assert "FROM plans" in statements[1]
    assert computed == ["R002"]


def test_the_answer_is_encoded_once_and_shows_in_place_changes_at_once(cache_app, tokens, computed, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from attain.web.api import dashboard as dashboard_api

    encoded: list[int] = []
    real = dashboard_api.encode

    def counting(body):  # type: ignore[no-untyped-def]
        encoded.append(1)
        return real(body)

    monkeypatch.setattr(dashboard_api, "encode", counting)
    first = _get(cache_app, tokens["rep"])
    assert _get(cache_app, tokens["rep"]) == first and len(encoded) == 1
    rep = _rep_node(db)
    old_name = rep.name
    db.execute(update(OrgNode).where(OrgNode.id == rep.id).values(name="Renamed in place"))
    db.commit()
    try:
        renamed = _get(cache_app, tokens["rep"])
    finally:
        db.execute(update(OrgNode).where(OrgNode.id == rep.id).values(name=old_name))
        db.commit()
    assert renamed["node"]["name"] == "Renamed in place" and renamed["summary"] == first["summary"]
    assert computed == ["R002"]  # the figures came from the cache; only the answer was encoded again
    assert len(encoded) == 2


def test_a_revoked_token_or_deactivated_user_stops_at_once_with_the_figures_cached(cache_app, cache_db, computed) -> None:  # type: ignore[no-untyped-def]
    with make_session_factory(get_engine(cache_db))() as session:
        user = auth.get_user(session=session, username="cache-rep-2") or auth.create_user(
            session=session, username="cache-rep-2", password="cache-rep-2-pw", role="rep", node_key="R002")
        auth.set_active(session=session, user=user, active=True)
        first, second = (auth.create_token(session=session, user=user, name=n) for n in ("a", "b"))
    assert _get(cache_app, first)["node"]["code"] == "R002"
    _get(cache_app, first)  # now cached
    with make_session_factory(get_engine(cache_db))() as session:
        auth.revoke_tokens(session=session, user=auth.require_user(session=session, username="cache-rep-2"))
    revoked = TestClient(cache_app, headers={"Authorization": f"Bearer {first}"}).get(f"/api/v1/dashboard?{AS_OF}")
    assert revoked.status_code == 401 and revoked.json() == {"detail": "invalid or revoked API token"}
    with make_session_factory(get_engine(cache_db))() as session:
        user = auth.require_user(session=session, username="cache-rep-2")
        second = auth.create_token(session=session, user=user, name="c")
        assert _get(cache_app, second)["node"]["code"] == "R002"
        auth.set_active(session=session, user=user, active=False)
    inactive = TestClient(cache_app, headers={"Authorization": f"Bearer {second}"}).get(f"/api/v1/dashboard?{AS_OF}")
    assert inactive.status_code == 401
    assert computed == ["R002"]
