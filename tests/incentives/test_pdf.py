"""Incentive statements as PDF (SQLite and PostgreSQL): Chinese names, labels and the total are in
the text of the generated file (read back with pypdf); no CJK font is a clear error, nothing written."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput
from attain.incentives import pdf, service
from attain.org.models import OrgNode
from tests.incentives.test_service import Q1, incentive_plan, make_target_org, sale

needs_font = pytest.mark.skipif(not any(Path(p).is_file() for p, _f in pdf.CANDIDATES),
                                reason="no CJK font on this machine (make browser-deps installs fonts-noto-cjk)")


def pdf_text(path: Path) -> str:
    """The text of every page, without the spaces and NULs pypdf puts between CID glyphs."""
    return "".join(re.sub(r"[\s\x00]", "", page.extract_text()) for page in PdfReader(path).pages)


@pytest.fixture
def org(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setattr("attain.plans.service.current_day", lambda: date(2027, 12, 31))
    ids = make_target_org(session)
    session.get(OrgNode, ids["R1-T1-1"]).name = "王明"  # type: ignore[union-attr]
    session.get(OrgNode, ids["R1-T1-2"]).name = "李娜"  # type: ignore[union-attr]
    session.commit()
    return ids


@needs_font
def test_pdf_statement_holds_the_chinese_name_labels_and_total(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 80_000_000)  # 80 %: 4,000 commission + 10,500 bonus (test_service, by hand)
    result = service.statements(session=session, name=incentive_plan(session, tmp_path), period="2027Q1", as_of=Q1[1])
    out = tmp_path / "statements.pdf"
    service.export_statements(result=result, out=out)
    assert out.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(out)
    assert len(reader.pages) == 2  # one page per person
    first = re.sub(r"[\s\x00]", "", reader.pages[0].extract_text())
    assert "王明" in first and "R1-T1-1" in first and "李娜" not in first
    assert "合计:14,500.00元" in first  # 400,000 + 1,050,000 fen
    assert "分段" in first and "目标奖金" in first
    assert "李娜" in re.sub(r"[\s\x00]", "", reader.pages[1].extract_text())
    assert b"NotoSansCJK" in out.read_bytes() or b"CJK" in out.read_bytes()  # the font is embedded


@needs_font
def test_cli_writes_a_pdf_for_one_rep(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, session: Session,
                                      org: dict[str, int]) -> None:
    sale(session, org, "R1-T1-1", 100_000_000)  # 100 %: 400,000 + 800,000 commission, bonus 100 % of 1,500,000
    incentive_plan(session, tmp_path)
    out = tmp_path / "R1.pdf"
    answer = CliRunner().invoke(app, ["incentive", "statement", "--plan", "激励", "--period", "2027Q1", "--rep", "R1-T1-1",
                                      "--as-of", "2027-03-31", "--out", str(out), "--db", database_url])
    assert answer.exit_code == 0, answer.output
    text = pdf_text(out)
    total = 400_000 + 800_000 + 1_500_000
    assert "王明" in text and f"{Decimal(total) / 100:,.2f}" in text and "李娜" not in text


def test_no_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = service.StatementSet("激励", 1, "2027Q1", "open", Q1[1], ())
    monkeypatch.setenv(pdf.FONT_ENV, str(tmp_path / "nope.ttf"))
    with pytest.raises(InvalidInput, match="nope.ttf: no such font file"):
        service.export_statements(result=result, out=tmp_path / "s.pdf")
    monkeypatch.delenv(pdf.FONT_ENV)
    monkeypatch.setattr(pdf, "CANDIDATES", ((str(tmp_path / "missing.ttc"), "Noto Sans CJK SC"),))
    with pytest.raises(InvalidInput, match="install fonts-noto-cjk") as caught:
        service.export_statements(result=result, out=tmp_path / "s.pdf")
    assert caught.value.code == "statement.no_cjk_font"
    assert not (tmp_path / "s.pdf").exists()
    with pytest.raises(InvalidInput, match=r"\.xlsx, \.html or \.pdf"):
        service.export_statements(result=result, out=tmp_path / "s.doc")


@needs_font
def test_a_named_face_of_a_collection_and_a_missing_face(monkeypatch: pytest.MonkeyPatch) -> None:
    path = next(p for p, face in pdf.CANDIDATES if face and Path(p).is_file() and p.endswith(".ttc"))
    monkeypatch.setenv(pdf.FONT_ENV, f"{path}#Noto Sans CJK SC")
    font, number = pdf.find_cjk_font()
    assert str(font) == path and number > 0  # SC is not the first face of Debian's collection (JP is)
    monkeypatch.setenv(pdf.FONT_ENV, f"{path}#Klingon Sans")
    with pytest.raises(InvalidInput, match="no face named 'Klingon Sans'"):
        pdf.find_cjk_font()
