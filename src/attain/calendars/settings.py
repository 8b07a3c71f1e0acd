"""The `calendar` setting, registered on import (the CLI and `attain.calendars.service` import this module)."""

from __future__ import annotations

from attain.errors import InvalidInput
from attain.settings.service import register
from attain.split.calendar import CHINA, check_country

CALENDAR = "calendar"


def _calendar_code(value: object) -> str:
    try:
        country, subdivision = check_country(str(value))
    except InvalidInput as exc:
        raise ValueError(f"is not a calendar: {exc}") from None
    return f"{country}-{subdivision}" if subdivision else country


register(
    CALENDAR, CHINA,
    "Official holiday calendar for working days: CN (China, with make-up workdays) or an ISO country code, "
    "optionally with a subdivision (US, GB, DE, US-CA). Company days from `attain calendar` come on top.",
    _calendar_code,
)
