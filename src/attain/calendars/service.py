"""The company calendar: the official calendar of the `calendar` setting plus the company's own days.

`company_calendar` is the one place every working-day count (splits, tracking, daily actions, the
web wizard) gets its calendar from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.calendars.models import HOLIDAY, WORKDAY, CompanyDay
from attain.calendars.settings import CALENDAR
from attain.errors import Conflict, ImportRejected, InvalidInput, NotFound, RowError
from attain.imports.parsing import (
    ANY_YEAR_FIRST,
    clean_text,
    normalise_header,
    parse_date_with,
)
from attain.imports.reading import read_table
from attain.settings.service import get_setting
from attain.split.calendar import WorkCalendar, check_country

KINDS = (HOLIDAY, WORKDAY)
# What an import's kind column may say (English or Chinese).
_KIND_WORDS = {
    HOLIDAY: HOLIDAY, "holidays": HOLIDAY, "off": HOLIDAY, "假": HOLIDAY, "休": HOLIDAY, "假日": HOLIDAY,
    "节假日": HOLIDAY, "休息": HOLIDAY, "放假": HOLIDAY,
    WORKDAY: WORKDAY, "workdays": WORKDAY, "work": WORKDAY, "班": WORKDAY, "上班": WORKDAY, "补班": WORKDAY,
    "调休上班": WORKDAY, "工作日": WORKDAY,
}
_COLUMNS = {
    "date": ("date", "day", "日期"),
    "kind": ("kind", "type", "类型", "类别"),
    "name": ("name", "note", "名称", "说明", "备注"),
}
MAX_NAME = 100


@dataclass(frozen=True)
class CalendarYear:
    """What `attain calendar show` and the calendar page list for one year."""

    year: int
    setting: str
    official_data: bool
    days: list[CompanyDay]
    working_days_by_month: list[int]
    warnings: list[str]


def company_calendar(*, session: Session) -> WorkCalendar:
    """The company's working-day calendar: official calendar of the setting, then the company's days."""
    country, subdivision = check_country(str(get_setting(session, CALENDAR)))
    rows = session.execute(select(CompanyDay.day, CompanyDay.kind, CompanyDay.name)).all()
    return WorkCalendar(
        holidays=frozenset(d for d, kind, _ in rows if kind == HOLIDAY),
        workdays=frozenset(d for d, kind, _ in rows if kind == WORKDAY),
        country=country,
        subdivision=subdivision,
        names=tuple(sorted((d, name) for d, _, name in rows if name)),
    )


def parse_day(text: str) -> date:
    """'2027-02-06' (or 2027/2/6, 2027年2月6日) as a date; InvalidInput otherwise."""
    try:
        return parse_date_with(str(text), ANY_YEAR_FIRST)
    except ValueError:
        raise InvalidInput.coded("calendars.date_like", text=text) from None


def check_kind(text: str) -> str:
    kind = _KIND_WORDS.get(clean_text(str(text)).lower())
    if kind is None:
        raise InvalidInput.coded("calendars.kind_neither_holiday_nor", text=text)
    return kind


def list_days(*, session: Session, year: int) -> list[CompanyDay]:
    """The company's own days of `year`, by date."""
    return list(session.scalars(
        select(CompanyDay).where(CompanyDay.day >= date(year, 1, 1), CompanyDay.day <= date(year, 12, 31))
        .order_by(CompanyDay.day)
    ))


def calendar_year(*, session: Session, year: int) -> CalendarYear:
    """The setting, whether official data exists, the company's days and working days per month of `year`."""
    if not 1900 <= year <= 2200:
        raise InvalidInput.coded("calendars.year_out_range", year=year)
    calendar = company_calendar(session=session)
    start, end = date(year, 1, 1), date(year, 12, 31)
    flags = calendar.working_days(start, end)
    months = [date(year, m, 1).timetuple().tm_yday - 1 for m in range(1, 13)] + [flags.size]
    return CalendarYear(
        year=year,
        setting=str(get_setting(session, CALENDAR)),
        official_data=not calendar.missing_years(start, end),
        days=list_days(session=session, year=year),
        working_days_by_month=[int(flags[a:b].sum()) for a, b in pairwise(months)],
        warnings=calendar.warnings(start, end),
    )


def _new_day(day: date, kind: str, name: str, by: str | None) -> CompanyDay:
    if kind not in KINDS:
        raise InvalidInput.coded("calendars.kind_neither_holiday_nor_2", kind=kind)
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput.coded("calendars.name_longer_characters", day=day, max_name=MAX_NAME)
    return CompanyDay(day=day, kind=kind, name=name, created_by=by)


def add_day(*, session: Session, day: date, kind: str, name: str = "", by: str | None = None) -> CompanyDay:
    """Add one company holiday or make-up workday; Conflict when the day is already listed."""
    row = _new_day(day, kind, name, by)
    existing = session.get(CompanyDay, day)
    if existing is not None:
        raise Conflict.coded("calendars.already_company_remove_first", day=day, kind=existing.kind, value=f' ({existing.name})' if existing.name else '')
    session.add(row)
    session.commit()
    return row


def remove_day(*, session: Session, day: date) -> CompanyDay:
    """Remove a company day (the official calendar applies to it again); NotFound when not listed."""
    row = session.get(CompanyDay, day)
    if row is None:
        raise NotFound.coded("calendars.company_holiday_workday", day=day)
    session.delete(row)
    session.commit()
    return row


def import_days(*, session: Session, path: Path, by: str | None = None) -> list[CompanyDay]:
    """Add the days of a CSV/Excel file with columns date, kind (holiday/workday), name.
    All or nothing: a bad row, a day listed twice or a day already listed rejects the whole file."""
    table = read_table(path, header_score=_header_score)
    header = [normalise_header(h) for h in table.header]
    where = {field: next((i for i, h in enumerate(header) if h in names), None) for field, names in _COLUMNS.items()}
    for field in ("date", "kind"):
        if where[field] is None:
            raise InvalidInput.coded("calendars.column_expected_header_such", name=path.name, field=field, items=', '.join(_COLUMNS[field]))
    existing = {d: kind for d, kind in session.execute(select(CompanyDay.day, CompanyDay.kind))}
    errors: list[RowError] = []
    rows: dict[date, CompanyDay] = {}
    for line, values in zip(table.lines, table.rows):
        def cell(field: str, values: list[str] = values) -> str:
            index = where[field]
            return values[index] if index is not None and index < len(values) else ""

        try:
            day = parse_day(cell("date"))
        except InvalidInput as exc:
            errors.append(RowError(line, "date", str(exc)))
            continue
        try:
            row = _new_day(day, check_kind(cell("kind")), cell("name"), by)
        except InvalidInput as exc:
            errors.append(RowError(line, "kind" if "kind" in str(exc) else "name", str(exc)))
            continue
        if day in rows:
            errors.append(RowError(line, "date", f"{day} is listed twice in the file"))
        elif day in existing:
            errors.append(RowError(line, "date", f"{day} is already a company {existing[day]}; remove it first"))
        else:
            rows[day] = row
    if errors:
        raise ImportRejected(None, errors, code="calendars.rejected", params={"name": path.name, "count": len(errors)})
    if not rows:
        raise InvalidInput.coded("calendars.days", name=path.name)
    session.add_all(rows.values())
    session.commit()
    return sorted(rows.values(), key=lambda r: r.day)


def _header_score(row: list[str]) -> int:
    names = {n for group in _COLUMNS.values() for n in group}
    return sum(normalise_header(cell) in names for cell in row)
