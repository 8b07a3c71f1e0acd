"""Statement line labels and plan-file errors in the page's language (SQLite and PostgreSQL): every
label the service writes is recognised by a template of web.statement_labels; the zh-CN statement
page shows Chinese lines, the English one the English words alone; an upload error names its line
and says what is wrong in Chinese."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from attain.incentives import service
from attain.web.pages.common import catalogue
from attain.web.statement_labels import recognise, translate_label
from tests.web.incentives.conftest import AS_OF, PLAN, PLAN_FILE, csrf
from tests.web.incentives.test_incentive_pages import BAD_BANDS, Q3, text_of

ZH = catalogue("zh_CN").gettext
EN = catalogue("en").gettext


def test_every_label_of_real_statements_is_recognised(db: Session) -> None:
    labels = set()
    for period in ("2026Q2", "2026Q3", "2026Q4"):  # closed (frozen), past and running
        for statement in service.statements(session=db, name=PLAN, period=period, as_of=AS_OF).statements:
            labels |= {str(line["label"]) for line in statement.lines}
    assert len(labels) > 20
    assert [label for label in labels if recognise(label) is None] == []
    for label in labels:
        assert " / " not in translate_label(label, ZH) or "→" in label, label  # no English-with-hint left
        assert not re.search(r"[\u4e00-\u9fff]", translate_label(label, EN).replace("行业峰会门票", "")), label


def test_labels_by_hand() -> None:
    assert translate_label("marginal: sales in band 60%–80% / 分段", ZH) == "分段累进：60%–80% 区间的销售额"
    assert translate_label("marginal: sales in band 60%–80% / 分段", EN) == "marginal: sales in band 60%–80%"
    assert (translate_label("credited revenue of team under FY2026 (target 10,350,000) / 计入业绩 · weight 30%", ZH)
            == "团队计入的销售额（目标方案 FY2026，目标 10,350,000）· 权重 30%")
    assert (translate_label("500 per new customer 2026-09-01..2026-10-31: 2 qualifying, credited share 1.5 of one / 专项奖励", ZH)
            == "专项奖励：2026-09-01..2026-10-31 每新客户 500：2 个符合条件，计入份额合计 1.5")
    correction = ("correction of 2027Q1 (closed): order SO-B returned/reduced -100,000 (line SO-B-1 -100,000); "
                  "2027Q1 recomputed 17,625 → 12,375")
    assert translate_label(correction, ZH) == "2027Q1（已结算）更正：订单 SO-B 退货/减少 -100,000 (明细行 SO-B-1 -100,000)；2027Q1 重算 17,625 → 12,375"
    assert translate_label(correction, EN) == correction
    assert translate_label("something the service never wrote", ZH) == "something the service never wrote"


def test_statement_page_in_chinese(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    page = client_for("rep").get(f"{Q3}/2026Q3/R002", params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    statement = service.statements(session=db, name=PLAN, period="2026Q3", rep="R002", as_of=AS_OF).statements[0]
    for line in statement.lines:
        assert translate_label(str(line["label"]), ZH).replace("'", "&#39;") in page.text
    assert "分段累进" in page.text and "/ 分段" not in page.text and "合计" in page.text


def test_upload_error_in_chinese_names_the_line(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    manager = client_for("manager")
    answer = manager.post("/incentives/upload", files={"file": ("激励.yaml", BAD_BANDS.replace(PLAN, "坏方案").encode())},
                          data={"csrf_token": csrf(manager)})
    assert answer.status_code == 422
    line = next(i for i, text in enumerate(BAD_BANDS.splitlines(), start=1) if "from: 55" in text)
    assert text_of(answer.text, "error-place") == f"第 {line} 行"
    assert text_of(answer.text, "error-field") == "components[1] 'commission'.bands[2].from"
    assert text_of(answer.text, "error-message") == "第 1 档与第 2 档重叠：第 2 档起于 55 %，早于第 1 档的终点 60 %"
    broken = PLAN_FILE.read_text(encoding="utf-8").replace(PLAN, "坏方案2").replace("mode: marginal", "mode: sideways")
    answer = manager.post("/incentives/upload", files={"file": ("p.yaml", broken.encode())}, data={"csrf_token": csrf(manager)})
    assert answer.status_code == 422 and "不是 marginal" in text_of(answer.text, "error-message")
