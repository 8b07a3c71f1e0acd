"""The Jinja2 environment of every page, and `render()` which fills in what the base layout needs.

Pages call `render(request, "plans/index.html", {...})`. The context then also holds `user`,
`csrf_token`, `locale`, `nav` (the menu for the user's role), the gettext callables used by
`{% trans %}` / `_()`, and the filters `amount` (fen → 万/亿 or 1,234), `pct` and `num`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.ext import (  # the newstyle wrappers `install_gettext_callables` uses
    _make_new_gettext,
    _make_new_ngettext,
)
from starlette.responses import Response

from attain.web.i18n import (
    LOCALE_NAMES,
    column_unit,
    format_amount,
    format_card_amount,
    format_exact_yuan,
    format_in_unit,
    format_input_amount,
    format_number,
    format_percent,
    request_locale,
    translations,
)
from attain.web.security import anonymous_csrf

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]
)
TEMPLATES = Jinja2Templates(env=_ENV)
TEMPLATES.env.policies["ext.i18n.trimmed"] = True
# Defaults for templates rendered outside `render()`; `render()` passes per-request callables.
TEMPLATES.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


@pass_context
def _amount(context: Mapping[str, Any], fen: int | None, places: int = 2) -> str:
    return format_amount(fen, context.get("locale", "zh_CN"), places=places)


@pass_context
def _num(context: Mapping[str, Any], value: int | None) -> str:
    return format_number(value, context.get("locale", "zh_CN"))


TEMPLATES.env.filters["amount"] = _amount


@pass_context
def _amount_card(context: Mapping[str, Any], fen: int | None) -> str:
    return format_card_amount(fen, context.get("locale", "zh_CN"))


@pass_context
def _amount_input(context: Mapping[str, Any], fen: int) -> str:
    return format_input_amount(fen, context.get("locale", "zh_CN"))


@pass_context
def _column_unit(context: Mapping[str, Any], amounts: Any) -> str:
    return column_unit(amounts, context.get("locale", "zh_CN"))


# One unit per table column: `{% set u = values | column_unit %}` in the header, `v | amount_in(u)` in cells.
TEMPLATES.env.filters["amount_card"] = _amount_card
TEMPLATES.env.filters["amount_exact"] = format_exact_yuan
TEMPLATES.env.filters["amount_input"] = _amount_input
TEMPLATES.env.filters["column_unit"] = _column_unit
TEMPLATES.env.filters["amount_in"] = format_in_unit
TEMPLATES.env.filters["pct"] = format_percent
TEMPLATES.env.filters["num"] = _num


def _message_in(message: str, zh: bool) -> str:
    """An alert's stored "中文 / English" message, in the page's language."""
    from attain.tracking.alerts import split_message

    return split_message(message)[0 if zh else 1]


TEMPLATES.env.filters["message_in"] = _message_in


@pass_context
def _localise(context: Mapping[str, Any], text: str | None) -> str | None:
    """A message stored as English text (an import job's error, row errors, warnings) in the page's language."""
    from attain.web.messages import translate_text

    return translate_text(str(text), translations(context.get("locale", "zh_CN")).gettext) if text else text


TEMPLATES.env.filters["localise"] = _localise


def _label_in(label: str, zh: bool) -> str:
    """A bilingual label "新线索 leads (calls)" (Chinese words, then English) in the page's language."""
    head, _, tail = label.partition(" ")
    if not tail or head.isascii() or not tail[:1].isascii():
        return label
    return head if zh else tail


TEMPLATES.env.filters["label_in"] = _label_in

# (path, message id, roles allowed; empty = every signed-in user). 7b's pages fill in the links.
NAV: list[tuple[str, str, tuple[str, ...]]] = [
    ("/", "Dashboard", ()),
    ("/plans", "Plans", ("admin", "director", "manager")),
    ("/leaderboard", "Leaderboard", ()),
    ("/actions", "Today", ("rep", "manager")),
    ("/diagnosis", "Diagnosis", ("admin", "director", "manager")),
    ("/customers", "Customers", ()),
    ("/incentives", "Incentives", ()),
    ("/alerts", "Inbox", ()),
    ("/imports", "Imports", ("admin",)),
    ("/calendar", "Calendar", ("admin",)),
    ("/settings", "Settings", ("admin",)),
]


def nav_for(role: str | None, granted: Mapping[str, bool] | None = None) -> list[tuple[str, str]]:
    """The menu of `role`; `granted` ({path: shown}) overrides the entries the company's role
    permissions open (attain.web.permissions: /imports follows the setting import_roles)."""
    if role is None:
        return []
    granted = granted or {}
    return [(path, label) for path, label, roles in NAV if granted.get(path, not roles or role in roles)]


def page_context(request: Request) -> dict[str, Any]:
    from attain.web.permissions import granted_menu  # it needs deps, which need this module's neighbours

    locale = request_locale(request)
    catalogue = translations(locale)
    user = getattr(request.state, "user", None)
    return {
        "user": user,
        "csrf_token": getattr(request.state, "csrf_token", "") or anonymous_csrf(request),
        "locale": locale,
        "locales": LOCALE_NAMES,
        "nav": [(path, catalogue.gettext(label)) for path, label in nav_for(
            user.role if user else None, granted_menu(request, user.role) if user else None)],
        "gettext": _make_new_gettext(catalogue.gettext),
        "ngettext": _make_new_ngettext(catalogue.ngettext),
        "_": _make_new_gettext(catalogue.gettext),
    }


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: Mapping[str, str] | None = None) -> Response:
    full = page_context(request)
    full.update(context or {})
    return TEMPLATES.TemplateResponse(request, name, full, status_code=status_code, headers=dict(headers or {}))
