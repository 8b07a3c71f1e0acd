"""What every content page shares: rendering with the pages' own catalogue, the as-of date, chart JSON.

Message ids are English, as in the platform's catalogue; `locale/zh_CN/LC_MESSAGES/pages.po` (next to
this module) translates the pages' own strings. It is compiled in memory on first use, so there is no
build step and no binary file in the repository.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request
from jinja2.ext import _make_new_gettext, _make_new_ngettext
from starlette.responses import Response

from attain.errors import InvalidInput
from attain.periods import supported_day
from attain.web.i18n import translations
from attain.web.templating import TEMPLATES, page_context

PAGES_LOCALE = Path(__file__).parent / "locale"


@lru_cache(maxsize=8)
def catalogue(locale: str) -> NullTranslations:
    """The platform's messages for `locale` with the pages' own messages added in front."""
    base = translations(locale)
    po = PAGES_LOCALE / locale / "LC_MESSAGES" / "pages.po"
    if not po.is_file():
        return base
    with po.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, parsed)
    buffer.seek(0)
    pages = Translations(fp=buffer, domain="pages")
    pages.add_fallback(base)
    return pages


def render_page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    full = page_context(request)
    messages = catalogue(full["locale"])
    full["gettext"] = full["_"] = _make_new_gettext(messages.gettext)
    full["ngettext"] = _make_new_ngettext(messages.ngettext)
    full["zh"] = full["locale"] == "zh_CN"
    full.update(context)
    return TEMPLATES.TemplateResponse(request, name, full, status_code=status_code)


def parse_as_of(value: str | None) -> date:
    """The `as_of` query parameter (YYYY-MM-DD), today when absent."""
    if not value:
        return date.today()
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput.coded("web.pages.common.date_like", value=value) from exc
    return supported_day(day, "as_of")


def yuan(fen: float) -> float:
    """Fen to yuan for charts only (axes and tooltips); stored and shown figures stay exact."""
    return round(float(fen) / 100, 2)


def chart_json(option: dict[str, Any]) -> str:
    """An ECharts option as JSON safe to put inside <script type="application/json">: no `<`, `>` or
    `&` at all (as Jinja's `tojson`), so neither `</script>` nor `<!--<script>` in a name (which makes
    the HTML parser look past the closing tag) can end or extend the element."""
    text = json.dumps(option, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
