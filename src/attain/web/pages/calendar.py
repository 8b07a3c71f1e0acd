"""Admin page of the company calendar: the official calendar in use, a year's company holidays and
make-up workdays, add and remove a day (HTMX; CSRF checked for every form post by `optional_user`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from attain.calendars import service as calendars
from attain.errors import AttainError, InvalidInput
from attain.web.deps import CurrentUser, SessionDep
from attain.web.messages import error_text
from attain.web.permissions import require_permission
from attain.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_permission("calendar"))])


def _year(text: str | int | None) -> int:
    try:
        year = int(text) if text not in (None, "") else date.today().year
    except ValueError:
        raise InvalidInput.coded("web.pages.calendar.year_year", text=text) from None
    if not 2000 <= year <= 2100:
        raise InvalidInput.coded("web.pages.calendar.year_out_range", year=year)
    return year


def _days(request: Request, session: SessionDep, year: int, error: str | None = None) -> Response:
    shown = calendars.calendar_year(session=session, year=year)
    return render(request, "calendar/_days.html", {"shown": shown, "error": error})


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, session: SessionDep, user: CurrentUser, year: str | None = None) -> Response:
    shown = calendars.calendar_year(session=session, year=_year(year))
    return render(request, "calendar/index.html", {"shown": shown, "error": None})


def _answer(request: Request, session: SessionDep, year: int, change: object) -> Response:
    """Run `change`; HTMX gets the day list back (with the error in words), a plain form a redirect."""
    try:
        change()  # type: ignore[operator]
    except AttainError as exc:
        if request.headers.get("hx-request"):
            session.rollback()
            return _days(request, session, year, error_text(request, exc))
        raise
    if request.headers.get("hx-request"):
        return _days(request, session, year)
    return RedirectResponse(f"/calendar?year={year}", status_code=303)


@router.post("/calendar/days", response_class=HTMLResponse)
def add_day(
    request: Request, session: SessionDep, user: CurrentUser,
    day: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
) -> Response:
    try:
        shown_year = calendars.parse_day(day).year  # show the year of the day added
    except InvalidInput:
        shown_year = _year(year)

    def change() -> None:
        calendars.add_day(session=session, day=calendars.parse_day(day), kind=calendars.check_kind(kind),
                          name=name, by=user.username)

    return _answer(request, session, shown_year, change)


@router.post("/calendar/days/{day}/remove", response_class=HTMLResponse)
def remove_day(request: Request, session: SessionDep, user: CurrentUser, day: str) -> Response:
    parsed = calendars.parse_day(day)
    return _answer(request, session, parsed.year, lambda: calendars.remove_day(session=session, day=parsed))
