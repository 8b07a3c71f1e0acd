"""Issue 20 #12: JSON in pages and attributes, client addresses behind proxies, customer probing,
expiring API tokens and integer bounds (SQLite and PostgreSQL where a database is involved)."""

from __future__ import annotations

import json
import re
import typing
from datetime import date, datetime, timedelta
from pathlib import Path

import annotated_types
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.actions.service import record_activity
from attain.auth import service as auth
from attain.auth.models import ApiToken
from attain.catalog.models import Customer
from attain.cli.main import app as cli_app
from attain.db import get_engine, make_session_factory
from attain.errors import NotFound
from attain.facts.models import OrderLine
from attain.org.models import OrgNode
from attain.web.app import create_app
from attain.web.pages.common import chart_json
from tests.web.conftest import PASSWORD, sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "src/attain/web/templates"
INT32_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


# --- JSON inside pages -------------------------------------------------------------------------------


def test_chart_json_has_no_markup_for_a_hostile_rep_name() -> None:
    option = {"series": [{"data": [{"name": "<!--<script>", "value": 1}, {"name": "</script><b>&amp;", "value": 2}]}]}
    text = chart_json(option)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == option


def test_every_json_attribute_in_a_template_is_encoded_by_tojson() -> None:
    """hx-vals / hx-headers / data-* holding JSON: a code with a double quote must not add keys."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        # A JSON value: written by hand ({"...) or a dict expression ({{ {...} }}); not a plain {{ value }}.
        for match in re.finditer(r"""(hx-vals|hx-headers|hx-vars|data-[\w-]+)=(['"])(\{\s*["']|\{\{\s*\{).*?\2""",
                                 path.read_text()):
            found.append((path.name, match.group(0)))
    assert found, "no JSON attributes found: the pattern is wrong"
    assert [f for f in found if not re.fullmatch(r"""[\w-]+='\{\{ .* \| tojson \}\}'""", f[1])] == []


def test_a_code_with_a_double_quote_stays_one_value_in_hx_vals() -> None:
    from attain.web.templating import TEMPLATES as env

    template = env.env.from_string("""<td hx-vals='{{ {"row": code, "period": 3} | tojson }}'></td>""")
    html = template.render(code='R1", "period": "13", "x": "<\'')
    value = re.search(r"hx-vals='([^']*)'", html).group(1)  # type: ignore[union-attr]
    assert json.loads(value.replace("&#34;", '"')) == {"row": 'R1", "period": "13", "x": "<\'', "period": 3}


# --- column lists in messages ------------------------------------------------------------------------


def test_a_header_of_100000_unknown_columns_gives_a_short_message() -> None:
    from attain.errors import InvalidInput
    from attain.imports.fields import match_columns

    header = [f"column{i}" for i in range(100_000)]
    with pytest.raises(InvalidInput) as raised:
        match_columns("orders", header, {})
    message = str(raised.value)
    assert len(message) < 1000, len(message)
    assert "column0, column1" in message and "(+99,970)" in message
    with pytest.raises(InvalidInput) as raised:
        match_columns("orders", header, {"order_date": ["nope"]})
    assert len(str(raised.value)) < 1000


# --- client address: X-Forwarded-For only from configured proxies -------------------------------------


@pytest.fixture
def login_app(org_session: Session, database_url: str):  # type: ignore[no-untyped-def]
    auth.create_user(session=org_session, username="target", password=PASSWORD, role="admin")
    return create_app(database_url)


def _guess(app, forwarded: str) -> int:  # type: ignore[no-untyped-def]
    client = TestClient(app, client=("127.0.0.1", 40000))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": "target", "password": "wrong", "csrf_token": token},
                       headers={"X-Forwarded-For": forwarded}, follow_redirects=False).status_code


def test_the_rate_limit_ignores_x_forwarded_for_from_an_untrusted_peer(login_app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ATTAIN_TRUSTED_PROXIES", raising=False)
    answers = [_guess(login_app, f"203.0.113.{i}") for i in range(1, 8)]
    assert answers == [401] * 5 + [429] * 2  # one address (the peer) however the header varies


def test_a_configured_proxy_forwards_the_client_address(login_app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ATTAIN_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    # Each client gets its own count; what a client writes to the left of our proxies is not believed.
    answers = [_guess(login_app, f"198.51.100.{i % 2}, 203.0.113.9, 10.1.2.3") for i in range(7)]
    assert answers == [401] * 5 + [429] * 2  # every guess is 203.0.113.9's
    assert _guess(login_app, "203.0.113.10") == 401


def test_serve_does_not_let_uvicorn_rewrite_the_peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: calls.append(options))
    monkeypatch.setattr("attain.web.jobs.start_scheduler", lambda *a, **k: None)
    for workers in ("1", "2"):
        result = CliRunner().invoke(cli_app, ["serve", "--db", f"sqlite:///{tmp_path / 'serve.db'}",
                                              "--workers", workers, "--no-scheduler"])
        assert result.exit_code == 0, result.output
    assert [c["proxy_headers"] for c in calls] == [False, False]


# --- customers cannot be probed by logging an activity -----------------------------------------------


def test_an_unknown_and_a_hidden_customer_get_the_same_answer(org_session: Session) -> None:
    session = org_session
    nodes = {n.code: n for n in session.scalars(select(OrgNode))}
    session.add_all([Customer(code="OWN1", name="自己的客户", owner_id=nodes["R1"].id),
                     Customer(code="SOLD1", name="卖过的客户", owner_id=nodes["R4"].id),
                     Customer(code="HIDE1", name="别人的客户", owner_id=nodes["R4"].id)])
    session.flush()
    sold = session.scalar(select(Customer.id).where(Customer.code == "SOLD1"))
    session.add(OrderLine(line_id="L1", order_id="O1", order_date=date(2026, 3, 2), rep_id=nodes["R1"].id,
                          customer_id=sold, amount=100))
    session.commit()
    day = date(2026, 3, 3)
    answers = []
    for code in ("HIDE1", "NOPE1", "别人的客户"):
        with pytest.raises(NotFound) as raised:
            record_activity(session=session, rep_code="R1", day=day, kind="visit", customer_code=code,
                            visible_to=nodes["R1"])
        answers.append(str(raised.value).replace(code, "X"))
    assert len(set(answers)) == 1, answers
    for code in ("OWN1", "SOLD1", "自己的客户"):
        assert record_activity(session=session, rep_code="R1", day=day, kind="visit", customer_code=code,
                               visible_to=nodes["R1"]).customer_id is not None
    # A manager's scope (the team) sees its reps' customers; the CLI (no scope) sees every customer.
    assert record_activity(session=session, rep_code="R4", day=day, kind="visit", customer_code="HIDE1").customer_id


def test_the_actions_page_answers_the_same_for_a_hidden_and_an_unknown_customer(demo_app, demo_db: str) -> None:  # type: ignore[no-untyped-def]
    with make_session_factory(get_engine(demo_db))() as session:
        rep = session.scalar(select(OrgNode).where(OrgNode.code == "R002"))
        sold_by_rep = select(OrderLine.customer_id).where(OrderLine.rep_id == rep.id, OrderLine.customer_id.is_not(None))  # type: ignore[union-attr]
        hidden = session.scalar(select(Customer.code).where(Customer.owner_id != rep.id,  # type: ignore[union-attr]
                                                            Customer.id.not_in(sold_by_rep)).limit(1))
    assert hidden is not None
    client = TestClient(demo_app)
    csrf = sign_in(client, "rep", "rep-demo-1")
    answers = []
    for code in (hidden, "NO-SUCH-CUSTOMER"):
        response = client.post("/actions/done", data={"rep": "R002", "day": "2026-11-23", "kind": "visit",
                                                      "customer": code, "csrf_token": csrf},
                               headers={"HX-Request": "true"})
        answers.append((response.status_code, response.json()["detail"].replace(code, "X")))
    assert answers[0] == answers[1] and answers[0][0] == 404


# --- API tokens expire ---------------------------------------------------------------------------------


def test_api_tokens_expire_and_record_their_last_use_once_a_minute(org_session: Session, database_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [datetime(2026, 3, 1, 9, 0, 0)]
    monkeypatch.setattr(auth, "now", lambda: clock[0])
    user = auth.create_user(session=org_session, username="script", password=PASSWORD, role="admin")
    token = auth.create_token(session=org_session, user=user, days=2)
    stored = org_session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert stored is not None and stored.expires_at == datetime(2026, 3, 3, 9, 0, 0)

    def last_used() -> datetime | None:
        with make_session_factory(get_engine(database_url))() as session:
            return session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == stored.id))

    client = TestClient(create_app(database_url), headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/plans").status_code == 200 and last_used() == clock[0]
    clock[0] += timedelta(seconds=59)
    assert client.get("/api/v1/plans").status_code == 200 and last_used() == datetime(2026, 3, 1, 9, 0, 0)
    clock[0] += timedelta(seconds=2)
    assert client.get("/api/v1/plans").status_code == 200 and last_used() == clock[0]
    clock[0] = datetime(2026, 3, 3, 8, 59, 59)
    assert client.get("/api/v1/plans").status_code == 200
    clock[0] = datetime(2026, 3, 3, 9, 0, 0)
    assert client.get("/api/v1/plans").status_code == 401
    with pytest.raises(Exception, match="1 to 3650 days"):
        auth.create_token(session=org_session, user=user, days=0)


def test_attain_user_token_takes_days(org_session: Session, database_url: str) -> None:
    auth.create_user(session=org_session, username="bot", password=PASSWORD, role="admin")
    result = CliRunner().invoke(cli_app, ["user", "token", "bot", "--days", "7", "--json", "--db", database_url])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    expires = datetime.fromisoformat(answer["expires_at"])
    created = org_session.scalar(select(ApiToken.created_at).where(ApiToken.token_hash == auth.digest(answer["token"])))
    assert expires - created == timedelta(days=7)
    plain = CliRunner().invoke(cli_app, ["user", "token", "bot", "--db", database_url])
    assert plain.stdout.strip().startswith("att_") and "\n" not in plain.stdout.strip()  # the token alone on stdout
    assert CliRunner().invoke(cli_app, ["user", "token", "bot", "--days", "0", "--db", database_url]).exit_code != 0


# --- integers: bounded to what the column holds --------------------------------------------------------


def _int_bound(annotation: object, metadata: list[object]) -> tuple[bool, int | None]:
    """(is an int parameter, its upper bound or None)."""
    args = typing.get_args(annotation)
    is_int = annotation is int or (int in args and all(a in (int, type(None)) for a in args))
    upper = None
    for item in metadata:
        if isinstance(item, annotated_types.Le):
            upper = int(item.le)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Lt):
            upper = int(item.lt) - 1  # type: ignore[arg-type]
    return is_int, upper


def _unbounded(app) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []

    def check(where: str, name: str, annotation: object, metadata: list[object]) -> None:
        is_int, upper = _int_bound(annotation, metadata)
        if not is_int:
            return
        limit = INT32_MAX if name.endswith("version") or name == "expect" else BIGINT_MAX
        if upper is None or upper > limit:
            problems.append(f"{where} {name} <= {upper}")

    def walk(route_name: str, dependant) -> None:  # type: ignore[no-untyped-def]
        for param in (*dependant.path_params, *dependant.query_params, *dependant.body_params):
            info = param.field_info
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                for name, field in annotation.model_fields.items():
                    check(f"{route_name} body", name, field.annotation, field.metadata)
            else:
                check(route_name, param.name, annotation, info.metadata)
        for sub in dependant.dependencies:
            walk(route_name, sub)

    def routes(items, prefix: str = ""):  # type: ignore[no-untyped-def]
        for route in items:
            if isinstance(route, APIRoute):
                yield prefix, route
            included = getattr(route, "original_router", None)  # FastAPI includes routers lazily
            if included is not None:
                yield from routes(included.routes, prefix + route.include_context.prefix)

    seen = 0
    for prefix, route in routes(app.routes):
        seen += 1
        walk(f"{','.join(sorted(route.methods))} {prefix}{route.path}", route.dependant)
    assert seen > 50, f"only {seen} routes walked"
    return problems


def test_every_integer_parameter_is_bounded_by_its_column(demo_app) -> None:  # type: ignore[no-untyped-def]
    assert _unbounded(demo_app) == []


def test_a_plan_version_of_two_to_the_31_is_a_422(demo_app, demo_tokens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(demo_app, raise_server_exceptions=False,
                        headers={"authorization": f"Bearer {demo_tokens['admin']}"})
    name = client.get("/api/v1/plans").json()[0]["name"]
    answers = [
        client.patch(f"/api/v1/plans/{name}/cells/1", json={"expect": 2**31, "value": 1}).status_code,
        client.get(f"/api/v1/plans/{name}", params={"version": 2**31}).status_code,
        client.get("/customers", params={"page": 2**63}).status_code,
        client.get(f"/plans/{name}/diff", params={"from_version": 1, "to_version": 2**31}).status_code,
    ]
    web = TestClient(demo_app, raise_server_exceptions=False)
    csrf = sign_in(web, "admin", "admin-demo-1")
    answers.append(web.post(f"/plans/{name}/status", data={"action": "submit", "version": str(2**31),
                                                          "csrf_token": csrf}).status_code)
    assert answers == [422] * 5
