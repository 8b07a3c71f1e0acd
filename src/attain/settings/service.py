"""Read and write company settings; every known setting has a default, a type check and a description."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.settings.models import Setting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: Any
    description: str
    check: Callable[[Any], Any]


def _month(value: Any) -> int:
    month = int(value)
    if not 1 <= month <= 12:
        raise ValueError("must be a month number 1-12")
    return month


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "是"):
        return True
    if text in ("0", "false", "no", "off", "否"):
        return False
    raise ValueError("must be true or false")


SPECS: dict[str, SettingSpec] = {}


def register(key: str, default: Any, description: str, check: Callable[[Any], Any]) -> SettingSpec:
    """Declare a setting; modules declare their own settings at import time."""
    spec = SettingSpec(key, default, description, check)
    SPECS[key] = spec
    return spec


register("fiscal_year_start_month", 1, "Month in which the fiscal year starts (1 = calendar year, 7 = July).", _month)
register("exclude_returns", False, "Leave returned orders out of attainment.", _bool)


def _pattern(value: Any) -> str:
    text = str(value).strip()
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"is not a regular expression ({exc})") from None
    return text


register(
    "manager_titles", "",
    "Regular expression (case-insensitive; empty for none) of the titles whose targets cover their people's, "
    "e.g. 'manager|director|经理|总监': those targets show on their own rows and are never added into totals.",
    _pattern,
)


def spec(key: str) -> SettingSpec:
    try:
        return SPECS[key]
    except KeyError:
        known = ", ".join(sorted(SPECS))
        raise InvalidInput.coded("settings.unknown_setting_known_settings", key=key, known=known) from None


def get_setting(session: Session, key: str) -> Any:
    definition = spec(key)
    stored = session.get(Setting, key)
    return definition.default if stored is None else stored.value


def set_setting(session: Session, key: str, value: Any) -> Any:
    definition = spec(key)
    try:
        checked = definition.check(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput.coded("settings.setting", key=key, value=value, exc=exc) from None
    stored = session.get(Setting, key)
    if stored is None:
        session.add(Setting(key=key, value=checked))
    else:
        stored.value = checked
    session.flush()
    return checked


def all_settings(session: Session) -> dict[str, Any]:
    stored = {row.key: row.value for row in session.scalars(select(Setting))}
    return {key: stored.get(key, s.default) for key, s in sorted(SPECS.items())}
