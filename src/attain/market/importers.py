"""`attain import market-size|market-shares|competitor-events|marketing-spend FILE` (registered with
attain.imports.registry). All or nothing like every import: a bad row (naming its line) means nothing
is written. Headers in Chinese or English; CSV in UTF-8/GBK/UTF-16 or Excel, as the toolkit reads them.

A market row names an existing region (code or name; 公司/COMPANY for the whole company), an optional
existing product line, and a period (2027, 2027Q1, 2027-03). Re-importing a row replaces it; a market
size that changes keeps the old figure in `previous_size` (a market change for the early warning).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.imports.columns import Columns
from attain.imports.common import MONEY_SCALE, ImportOptions, ImportResult, Progress, Resolver, reject_if_errors, wrong_kind
from attain.imports.fields import Field, _f
from attain.imports.reading import Table
from attain.imports.registry import ImportKind
from attain.market import service
from attain.market.models import EVENT_KINDS, OWN
from attain.periods import Period, parse_period

_REGION = _f("region", "text", "region", "territory", "area", "market", "区域", "大区", "地区", "片区", "销售区域", "市场", required=True)
_LINE = _f("product_line", "text", "productline", "line", "category", "product", "产品线", "产品类别", "品类", "产品")
_PERIOD = _f("period", "text", "period", "year", "month", "quarter", "期间", "年份", "年度", "月份", "季度", required=True)
_SOURCE = _f("source", "text", "source", "datasource", "来源", "数据来源", "出处")
_SOURCE_DATE = _f("source_date", "date", "sourcedate", "asof", "publishedon", "date", "来源日期", "数据日期", "发布日期", "日期")

FIELDS: dict[str, tuple[Field, ...]] = {
    "market-size": (
        _REGION, _LINE, _PERIOD,
        _f("size", "amount", "size", "marketsize", "market", "amount", "市场规模", "市场容量", "规模", "容量", "金额", required=True),
        _f("growth", "text", "growth", "industrygrowth", "marketgrowth", "行业增长", "行业增长率", "增长率", "市场增长率"),
        _f("own_share", "text", "ownshare", "ourshare", "share", "本公司份额", "我司份额", "市场份额", "份额", "占有率"),
        _SOURCE, _SOURCE_DATE,
    ),
    "market-shares": (
        _REGION, _LINE, _PERIOD,
        _f("player", "text", "player", "competitor", "company", "brand", "竞争对手", "对手", "厂商", "公司", "品牌", required=True),
        _f("share", "text", "share", "marketshare", "份额", "市场份额", "占有率", required=True),
        _SOURCE, _SOURCE_DATE,
    ),
    "competitor-events": (
        _f("event_date", "date", "eventdate", "date", "日期", "事件日期", "发生日期", required=True),
        _REGION, _LINE,
        _f("kind", "text", "kind", "type", "eventtype", "类型", "事件类型", "动作", required=True),
        _f("severity", "text", "severity", "impact", "level", "严重度", "严重程度", "影响", "影响程度", "级别", required=True),
        _f("competitor", "text", "competitor", "player", "rival", "竞争对手", "对手", "厂商"),
        _f("note", "text", "note", "notes", "description", "备注", "说明", "描述"),
    ),
    "marketing-spend": (
        _PERIOD,
        _f("amount", "amount", "amount", "spend", "budget", "cost", "marketingspend", "金额", "市场费用", "营销费用", "费用", "投入", required=True),
        _f("region", "text", "region", "territory", "区域", "大区", "地区"),
    ),
}

_KIND_WORDS = {"pricecut": "price_cut", "price": "price_cut", "降价": "price_cut", "价格战": "price_cut", "折扣": "price_cut",
               "newproduct": "new_product", "product": "new_product", "launch": "new_product", "新品": "new_product",
               "新产品": "new_product", "新品上市": "new_product",
               "campaign": "campaign", "promotion": "campaign", "promo": "campaign", "促销": "campaign", "活动": "campaign",
               "促销活动": "campaign", "营销活动": "campaign"}
_SEVERITY_WORDS = {"1": "1", "2": "2", "3": "3", "low": "1", "medium": "2", "mid": "2", "high": "3",
                   "低": "1", "中": "2", "高": "3", "轻": "1", "一般": "2", "严重": "3"}
_OWN_WORDS = {"own", "us", "we", "ours", "本公司", "我司", "我们", "自己", "本司"}


def _periods(columns: Columns) -> list[Period | None]:
    out: list[Period | None] = []
    for index, text in enumerate(columns.text("period", required=True, max_length=16)):
        period = None
        if text:
            try:
                period = parse_period(text)
            except InvalidInput:
                columns.error(index, "period", f"'{text}' is not a period such as 2027, 2027Q1 or 2027-03")
        out.append(period)
    return out


def _regions(columns: Columns, resolver: Resolver, *, required: bool = True) -> list[int | None]:
    ids: list[int | None] = []
    for index, key in enumerate(columns.codes("region", required=required)):
        node_id = resolver.existing_org(key, "auto") if key else None
        if key and node_id is None:
            columns.error(index, "region", f"no region '{key}'; import the regions first")
        elif key and (problem := wrong_kind(key, resolver.org_kind(node_id), ("region", "company"))):
            columns.error(index, "region", problem)
            node_id = None
        ids.append(node_id)
    return ids


def _lines(columns: Columns, resolver: Resolver) -> list[int | None]:
    ids: list[int | None] = []
    for index, key in enumerate(columns.codes("product_line")):
        node_id = resolver.existing_product(key, "auto") if key else None
        if key and node_id is None:
            columns.error(index, "product_line", f"no product line '{key}'; import the products first")
        elif key and (problem := wrong_kind(key, resolver.product_kind(node_id), ("line",))):
            columns.error(index, "product_line", problem)
            node_id = None
        ids.append(node_id)
    return ids


def _shares(columns: Columns, field: str) -> list[Decimal | None]:
    out: list[Decimal | None] = []
    for index, text in enumerate(columns.text(field, max_length=16)):
        value = None
        if text:
            try:
                value = service.parse_share(text)
            except InvalidInput as exc:
                columns.error(index, field, str(exc))
        out.append(value)
    return out


def _growths(columns: Columns) -> list[Decimal | None]:
    out: list[Decimal | None] = []
    for index, text in enumerate(columns.text("growth", max_length=16)):
        value = None
        if text:
            try:
                value = service.parse_rate(text, "growth")
            except InvalidInput as exc:
                columns.error(index, "growth", str(exc))
        out.append(value)
    return out


def _duplicates(columns: Columns, keys: list[tuple[object, ...] | None], field: str) -> None:
    first: dict[tuple[object, ...], int] = {}
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            columns.error(index, field, f"the same market and period as line {columns.lines[first[key]]}")
        else:
            first[key] = index


def import_market_sizes(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("market-size", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    resolver = Resolver(session)
    regions, lines, periods = _regions(columns, resolver), _lines(columns, resolver), _periods(columns)
    sizes = columns.amount("size", scale=MONEY_SCALE, multiplier=options.multiplier, required=True)
    for index, size in enumerate(sizes):
        if size is not None and size < 0:
            columns.error(index, "size", "a market size must not be negative")
    growths, own = _growths(columns), _shares(columns, "own_share") if columns.has("own_share") else [None] * len(columns)
    sources = columns.text("source", max_length=200)
    source_dates = columns.date("source_date") if columns.has("source_date") else [None] * len(columns)
    keys = [(r, l, p.label) if r is not None and p is not None else None for r, l, p in zip(regions, lines, periods)]
    _duplicates(columns, keys, "period")
    reject_if_errors(columns, table.source)
    step(f"writing {len(keys):,} market sizes")
    for index, key in enumerate(keys):
        assert key is not None and periods[index] is not None and sizes[index] is not None
        period = periods[index]
        inserted = service.put_market_size(session=session, region_id=key[0], product_node_id=key[1], period=period,  # type: ignore[arg-type]
                                           size=sizes[index], growth=growths[index], source=sources[index],  # type: ignore[arg-type]
                                           source_date=source_dates[index], commit=False)
        result.inserted += inserted
        result.updated += not inserted
        if own[index] is not None:
            service.put_share(session=session, region_id=key[0], product_node_id=key[1], period=period, player=OWN,  # type: ignore[arg-type]
                              share=own[index], source=sources[index], source_date=source_dates[index], commit=False)  # type: ignore[arg-type]
    return result


def import_market_shares(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("market-shares", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    resolver = Resolver(session)
    regions, lines, periods = _regions(columns, resolver), _lines(columns, resolver), _periods(columns)
    players = [OWN if p and p.strip().lower() in _OWN_WORDS else p for p in columns.text("player", required=True, max_length=100)]
    shares = _shares(columns, "share")
    for index, share in enumerate(shares):
        if share is None and not columns.raw("share")[index]:
            columns.error(index, "share", "share is empty")
    sources = columns.text("source", max_length=200)
    source_dates = columns.date("source_date") if columns.has("source_date") else [None] * len(columns)
    keys = [(r, l, p.label, w) if r is not None and p is not None and w else None
            for r, l, p, w in zip(regions, lines, periods, players)]
    _duplicates(columns, keys, "player")
    # The players of one market and period cannot hold more than all of it.
    totals: dict[tuple[object, ...], tuple[Decimal, int]] = {}
    for index, key in enumerate(keys):
        if key is not None and shares[index] is not None:
            total, _ = totals.get(key[:3], (Decimal(0), index))
            totals[key[:3]] = (total + shares[index], index)  # type: ignore[operator]
    for total, last in totals.values():
        if total > 1:
            columns.error(last, "share", f"the shares of this market and period add up to {total * 100:.1f} %, more than 100 %")
    reject_if_errors(columns, table.source)
    step(f"writing {len(keys):,} share estimates")
    for index, key in enumerate(keys):
        assert key is not None
        inserted = service.put_share(session=session, region_id=key[0], product_node_id=key[1], period=periods[index],  # type: ignore[arg-type]
                                     player=key[3], share=shares[index], source=sources[index],  # type: ignore[arg-type]
                                     source_date=source_dates[index], commit=False)
        result.inserted += inserted
        result.updated += not inserted
    return result


def import_competitor_events(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("competitor-events", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    resolver = Resolver(session)
    days = columns.date("event_date", required=True)
    regions, lines = _regions(columns, resolver), _lines(columns, resolver)
    kinds = columns.vocabulary("kind", _KIND_WORDS, f"a competitor event kind ({', '.join(EVENT_KINDS)} / 降价, 新品, 促销)", required=True)
    severities = columns.vocabulary("severity", _SEVERITY_WORDS, "a severity (1-3, low/medium/high, 低/中/高)", required=True)
    competitors = columns.text("competitor", max_length=100)
    notes = columns.text("note", max_length=2000)
    reject_if_errors(columns, table.source)
    step(f"writing {len(days):,} competitor events")
    for index, day in enumerate(days):
        service.add_event(session=session, day=day, region_id=regions[index], product_node_id=lines[index],  # type: ignore[arg-type]
                          kind=kinds[index], severity=int(severities[index]), competitor=competitors[index],  # type: ignore[arg-type]
                          note=notes[index], commit=False)
        result.inserted += 1
    return result


def import_marketing_spend(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("marketing-spend", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    resolver = Resolver(session)
    periods = _periods(columns)
    regions = _regions(columns, resolver, required=False) if columns.has("region") else [None] * len(columns)
    amounts = columns.amount("amount", scale=MONEY_SCALE, multiplier=options.multiplier, required=True)
    for index, amount in enumerate(amounts):
        if amount is not None and amount < 0:
            columns.error(index, "amount", "a marketing spend must not be negative")
    keys = [(p.label, r) if p is not None else None for p, r in zip(periods, regions)]
    _duplicates(columns, keys, "period")
    reject_if_errors(columns, table.source)
    for index, key in enumerate(keys):
        inserted = service.put_spend(session=session, period=periods[index], region_id=regions[index],  # type: ignore[arg-type]
                                     amount=amounts[index], commit=False)  # type: ignore[arg-type]
        result.inserted += inserted
        result.updated += not inserted
    return result


IMPORT_KINDS = {
    "market-size": ImportKind(FIELDS["market-size"], import_market_sizes),
    "market-shares": ImportKind(FIELDS["market-shares"], import_market_shares),
    "competitor-events": ImportKind(FIELDS["competitor-events"], import_competitor_events),
    "marketing-spend": ImportKind(FIELDS["marketing-spend"], import_marketing_spend),
}
