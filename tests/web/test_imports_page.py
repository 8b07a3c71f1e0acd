"""The imports page: upload, detected mapping, preview, background run, row errors, nothing written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attain.auth import service as auth
from attain.db import get_engine, make_session_factory
from attain.facts.models import OrderLine
from attain.org.models import OrgNode
from attain.org.service import ensure_root
from attain.web import jobs
from attain.web.app import create_app
from tests.web.conftest import PASSWORD, sign_in


@pytest.fixture
def admin_client(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("ATTAIN_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.delenv("ATTAIN_REDIS_URL", raising=False)
    with make_session_factory(get_engine(database_url))() as session:
        auth.create_user(session=session, username="boss", password=PASSWORD, role="admin")
    client = TestClient(create_app(database_url))
    client.csrf = sign_in(client, "boss", PASSWORD)  # type: ignore[attr-defined]
    return client


def _count(database_url: str, model) -> int:  # type: ignore[no-untyped-def]
    with make_session_factory(get_engine(database_url))() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _preview(client: TestClient, kind: str, path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post("/imports/preview", data={"kind": kind, "csrf_token": client.csrf},  # type: ignore[attr-defined]
                           files={"file": (path.name, handle, "text/csv")})


def _run(client: TestClient, page: str, **mapping: str):  # type: ignore[no-untyped-def]
    upload = re.search(r'name="upload" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    kind = re.search(r'name="kind" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = {"kind": kind, "upload": upload, "csrf_token": client.csrf}  # type: ignore[attr-defined]
    data.update({f"map_{k}": v for k, v in mapping.items()})
    response = client.post("/imports/run", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    jobs.wait_idle()
    return client.get(response.headers["location"])


def test_a_bad_file_shows_every_row_error_and_writes_nothing(admin_client: TestClient, database_url: str,
                                                             fixtures_dir: Path) -> None:
    preview = _preview(admin_client, "orders", fixtures_dir / "broken/orders_bad_dates.csv")
    assert preview.status_code == 200
    # The detected mapping is shown with the file's own column names, and the first rows.
    assert re.search(r'name="map_order_date"[^>]*>(?:(?!</select>).)*<option value="下单日期" selected>', preview.text,
                     re.DOTALL)
    assert "2026-13-45" in preview.text and 'data-testid="preview"' in preview.text
    result = _run(admin_client, preview.text)
    assert 'data-status="failed"' in result.text and "未导入任何数据" in result.text
    errors = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", result.text)
    assert errors == [("3", "下单日期", "“2026-13-45”不是日期"), ("5", "下单日期", "“yesterday”不是日期")]
    assert "orders_bad_dates.csv" in result.text
    assert _count(database_url, OrderLine) == 0 and _count(database_url, OrgNode) == 0


def test_a_good_file_runs_with_progress_to_success(admin_client: TestClient, database_url: str, fixtures_dir: Path) -> None:
    preview = _preview(admin_client, "orders", fixtures_dir / "good/orders_wan.csv")
    assert preview.status_code == 200 and 'data-testid="mapping-error"' not in preview.text
    result = _run(admin_client, preview.text)
    assert 'data-status="succeeded"' in result.text, result.text[-1500:]
    assert _count(database_url, OrderLine) > 0
    listing = admin_client.get("/imports").text
    assert "orders_wan.csv" in listing and "成功" in listing
    # Uploads are removed once imported.
    assert not any(p.is_file() for p in Path(os.environ["ATTAIN_UPLOAD_DIR"]).rglob("*"))


def test_a_missing_column_can_be_mapped_by_hand(admin_client: TestClient, database_url: str, tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("单号,日子,人,钱\nA1,2026-03-01,R1,100\nA2,2026-03-02,R1,200\n", encoding="utf-8")
    preview = _preview(admin_client, "orders", odd)
    assert 'data-testid="mapping-error"' in preview.text  # order_date, rep and amount were not recognised
    result = _run(admin_client, preview.text, order_id="单号", order_date="日子", rep="人", amount="钱")
    assert 'data-status="succeeded"' in result.text, result.text[-1500:]
    assert _count(database_url, OrderLine) == 2


@pytest.mark.parametrize(("name", "content", "message"), [
    ("a.exe", b"MZ", "不是 CSV 或 Excel 文件"), ("empty.csv", b"", "是空文件"),
    ("broken.xlsx", b"not really excel", "broken.xlsx"),
])
def test_unreadable_uploads_are_explained(admin_client: TestClient, name: str, content: bytes, message: str) -> None:
    response = admin_client.post("/imports/preview", data={"kind": "orders", "csrf_token": admin_client.csrf},  # type: ignore[attr-defined]
                                 files={"file": (name, content, "application/octet-stream")})
    assert response.status_code == 422 and message in response.text


def test_only_admins_import_and_forms_need_csrf(admin_client: TestClient, database_url: str) -> None:
    assert admin_client.post("/imports/preview", data={"kind": "orders"},
                             files={"file": ("a.csv", b"a\n1\n", "text/csv")}).status_code == 403
    assert admin_client.post("/imports/run", data={"kind": "orders", "upload": "../../etc/passwd",
                                                   "csrf_token": admin_client.csrf}).status_code == 422  # type: ignore[attr-defined]
    with make_session_factory(get_engine(database_url))() as session:
        ensure_root(session=session)
        session.commit()
        auth.create_user(session=session, username="d", password=PASSWORD, role="director")
    director = TestClient(create_app(database_url))
    sign_in(director, "d", PASSWORD)
    assert director.get("/imports").status_code == 403
    assert admin_client.get("/imports/jobs/" + "0" * 32).status_code == 404
