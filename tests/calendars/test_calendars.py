"""The company calendar: official calendar by setting (CN or a `holidays` country), company days on
top, and every working-day consumer reading it (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from attain.calendars.service import add_day, calendar_year, company_calendar, import_days, remove_day
from attain.errors import Conflict, ImportRejected, InvalidInput, NotFound
from attain.periods import Grain, parse_period
from attain.settings.service import set_setting
from attain.split.calendar import TimeMethod, WorkCalendar, check_country, split_time
from attain.tracking.attainment import attainment
from attain.tracking.targets import target_between
from tests.tracking.test_tracking_service import _company, _orders, _plan

ATTAIN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "attain"


def test_us_calendar_gives_july_4_as_a_holiday() -> None:
    us = WorkCalendar(country="US")
    flags = us.working_days(date(2025, 7, 3), date(2025, 7, 7))  # Thu, Fri 4 July, Sat, Sun, Mon
    assert flags.tolist() == [True, False, False, False, True]
    assert us.warnings(date(2025, 1, 1), date(2025, 12, 31)) == []
    assert WorkCalendar().working_days(date(2025, 7, 4), date(2025, 7, 4)).tolist() == [True]  # not in China


def test_cn_2026_spring_festival_and_make_up_saturday() -> None:
    flags = WorkCalendar().working_days(date(2026, 2, 13), date(2026, 2, 24))
    # 13 Fri, 14 Sat (make-up workday), 15-23 春节 off, 24 Tue back at work
    assert flags.tolist() == [True, True] + [False] * 9 + [True]


def test_calendar_setting_validates_the_country(session: Session) -> None:
    assert check_country("us-ca") == ("US", "CA")
    assert set_setting(session, "calendar", "us") == "US"
    assert company_calendar(session=session).country == "US"
    with pytest.raises(InvalidInput, match="unknown calendar country 'XX'"):
        set_setting(session, "calendar", "XX")
    with pytest.raises(InvalidInput, match="no subdivision 'ZZ'"):
        set_setting(session, "calendar", "US-ZZ")


def test_company_days_change_the_working_day_split(session: Session) -> None:
    def march_april(calendar: WorkCalendar) -> tuple[list[int], list[int]]:
        result = split_time(4_500, 1, date(2027, 3, 1), date(2027, 4, 30), Grain.MONTH, TimeMethod.WORKING_DAYS,
                            calendar=calendar)
        return result.working_days.tolist(), result.targets.tolist()

    assert march_april(company_calendar(session=session)) == ([23, 22], [2_300, 2_200])
    add_day(session=session, day=date(2027, 3, 1), kind="holiday", name="公司假日", by="admin")
    add_day(session=session, day=date(2027, 4, 3), kind="workday", name="调休", by="admin")
    assert march_april(company_calendar(session=session)) == ([22, 23], [2_200, 2_300])


def test_company_days_change_tracking_time_progress_and_proration(session: Session) -> None:
    company = _company(session)
    _orders(session, company, [("o1", "A", date(2027, 3, 1), 100_000)])
    plan = _plan(session, company)
    session.commit()
    march = parse_period("2027-03")
    before = attainment(session=session, period=march, by="rep", as_of=date(2027, 3, 6)).rows[0].progress
    assert (before.working_days_elapsed, before.working_days) == (5, 23)
    add_day(session=session, day=date(2027, 3, 2), kind="holiday", name="公司假日")
    after = attainment(session=session, period=march, by="rep", as_of=date(2027, 3, 6)).rows[0].progress
    assert (after.working_days_elapsed, after.working_days) == (4, 22)
    assert after.working_share == Fraction(4, 22)
    add_day(session=session, day=date(2027, 3, 6), kind="workday", name="调休")  # a Saturday worked
    made_up = attainment(session=session, period=march, by="rep", as_of=date(2027, 3, 6)).rows[0].progress
    assert (made_up.working_days_elapsed, made_up.working_days) == (5, 23)
    week = parse_period("2027-W09")  # 1-7 March: Mon 1, Wed 3 - Sat 6 worked
    reps = {t.node_id: t.value for t in target_between(session, plan, week.start, week.end, "rep")}
    assert reps[company.reps["A"]] == Fraction(2_300_000 * 5, 23)


def test_2027_without_official_data_warns_and_names_the_company_days(session: Session) -> None:
    year = calendar_year(session=session, year=2027)
    assert not year.official_data
    assert year.warnings == ["no official holiday calendar for 2027; counting Monday to Friday as working days"]
    add_day(session=session, day=date(2027, 2, 8), kind="holiday", name="春节")
    add_day(session=session, day=date(2027, 10, 1), kind="holiday", name="国庆")
    year = calendar_year(session=session, year=2027)
    assert year.warnings == ["no official holiday calendar for 2027; counting Monday to Friday plus the company's "
                             "2 holiday(s) and 0 make-up workday(s) (春节, 国庆) as working days"]
    assert [d.name for d in year.days] == ["春节", "国庆"]
    assert year.working_days_by_month[1] == 19 and year.working_days_by_month[9] == 20
    assert calendar_year(session=session, year=2026).official_data


def test_bad_date_duplicate_and_missing_day_are_clear_errors(session: Session) -> None:
    from attain.calendars.service import parse_day

    with pytest.raises(InvalidInput, match="'2027-02-30' is not a date like 2027-02-06"):
        parse_day("2027-02-30")
    add_day(session=session, day=date(2027, 2, 8), kind="holiday", name="春节")
    with pytest.raises(Conflict, match=r"2027-02-08 is already a company holiday \(春节\)"):
        add_day(session=session, day=date(2027, 2, 8), kind="workday")
    with pytest.raises(InvalidInput, match="neither holiday nor workday"):
        add_day(session=session, day=date(2027, 2, 9), kind="vacation")
    remove_day(session=session, day=date(2027, 2, 8))
    with pytest.raises(NotFound, match="2027-02-08 is not a company holiday or workday"):
        remove_day(session=session, day=date(2027, 2, 8))


def test_import_is_all_or_nothing_with_row_errors(session: Session, tmp_path: Path) -> None:
    add_day(session=session, day=date(2027, 10, 1), kind="holiday", name="国庆")
    bad = tmp_path / "bad.csv"
    bad.write_text("日期,类型,名称\n2027-02-08,假,春节\n2027-02-31,假,春节\n2027-02-09,maybe,春节\n"
                   "2027-02-08,班,调休\n2027-10-01,假,国庆\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        import_days(session=session, path=bad)
    assert [(e.line, e.column) for e in rejected.value.errors] == [(3, "date"), (4, "kind"), (5, "date"), (6, "date")]
    assert "already a company holiday" in rejected.value.errors[-1].message
    assert [d.day for d in calendar_year(session=session, year=2027).days] == [date(2027, 10, 1)]
    good = tmp_path / "good.csv"
    good.write_text("date,kind,name\n2027/2/8,holiday,春节\n2027-02-20,workday,调休\n", encoding="utf-8")
    assert [d.name for d in import_days(session=session, path=good, by="admin")] == ["春节", "调休"]
    calendar = company_calendar(session=session)
    assert calendar.holidays == {date(2027, 2, 8), date(2027, 10, 1)} and calendar.workdays == {date(2027, 2, 20)}


def _cli(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300", "ATTAIN_DATABASE_URL": database_url}
    return subprocess.run([str(ATTAIN), *args], check=False, capture_output=True, text=True, cwd=cwd, env=env)


def test_cli_calendar_and_split_time_use_the_company_days(session: Session, database_url: str, tmp_path: Path) -> None:
    session.commit()  # the CLI reads the migrated schema of this test's database
    shown = _cli(database_url, tmp_path, "calendar", "show", "--year", "2027")
    assert shown.returncode == 0, shown.stderr
    assert "no official holiday calendar for 2027" in shown.stderr and "attain calendar add" in shown.stderr
    added = _cli(database_url, tmp_path, "calendar", "add", "2027-03-01", "--holiday", "--name", "春节")
    assert added.returncode == 0 and "2027-03-01 is now a company holiday (春节)" in added.stdout
    again = _cli(database_url, tmp_path, "calendar", "add", "2027-03-01", "--workday")
    assert again.returncode == 1 and "already a company holiday" in again.stderr
    bad = _cli(database_url, tmp_path, "calendar", "add", "2027-02-30", "--holiday")
    assert bad.returncode == 1 and "'2027-02-30' is not a date" in bad.stderr
    country = _cli(database_url, tmp_path, "config", "set", "calendar", "Narnia")
    assert country.returncode == 1 and "unknown calendar country 'Narnia'" in country.stderr
    split = _cli(database_url, tmp_path, "split-time", "--start", "2027-03-01", "--end", "2027-04-30",
                 "--total", "4500", "--method", "working-days", "--json")
    assert split.returncode == 0, split.stderr
    assert '"working_days": 22' in split.stdout and '"target": "2250"' in split.stdout
    assert "plus the company's 1 holiday(s) and 0 make-up workday(s) (春节)" in split.stdout
    us = _cli(database_url, tmp_path, "config", "set", "calendar", "US")
    assert us.returncode == 0 and "calendar = US" in us.stdout
    july = _cli(database_url, tmp_path, "split-time", "--start", "2025-07-01", "--end", "2025-07-31",
                "--total", "22", "--method", "working-days", "--json")
    assert '"working_days": 22' in july.stdout  # 23 weekdays less Independence Day
