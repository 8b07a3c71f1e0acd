"""Languages: Babel catalogues (zh_CN default, en), locale choice per request and amount formatting.

Message ids in templates and code are English; `locale/zh_CN/LC_MESSAGES/messages.po` translates
them. The chosen locale is, in order: the `attain_locale` cookie (set by the language switch),
the signed-in user's saved locale, the browser's Accept-Language, zh_CN.

Amounts are integers in fen. Chinese shows them in 万/亿 (1,234,500,00 fen → "123.45万"), English
with thousands separators ("1,234,500").
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from fastapi import Request

from attain.web.security import LOCALE_COOKIE

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}
WAN = Decimal(10_000)
YI = Decimal(100_000_000)


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def normalise(tag: str | None) -> str | None:
    """'zh-CN', 'zh_Hans', 'zh' → 'zh_CN'; 'en-GB' → 'en'; anything else → None."""
    if not tag:
        return None
    try:
        parsed = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError, TypeError):
        return None
    if parsed.language == "zh":
        return "zh_CN"
    if parsed.language == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The best supported locale in an Accept-Language header, honouring q-values."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = normalise(tag) if tag.strip() != "*" else None
        if locale and quality > 0:
            choices.append((-quality, position, locale))
    return min(choices)[2] if choices else None


def request_locale(request: Request) -> str:
    chosen = normalise(request.cookies.get(LOCALE_COOKIE))
    if chosen:
        return chosen
    user = getattr(request.state, "user", None)
    if user is not None and user.locale in LOCALES:
        return user.locale  # type: ignore[no-any-return]
    return from_accept_language(request.headers.get("accept-language")) or DEFAULT_LOCALE


def gettext_for(locale: str):  # type: ignore[no-untyped-def]
    return translations(locale).gettext


# --- amounts ---------------------------------------------------------------------------------------


def _fixed(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_amount(fen: int | Decimal | None, locale: str, *, places: int = 2) -> str:
    """An amount in fen for people: 万/亿 in Chinese, thousands separators in English (whole yuan)."""
    if fen is None:
        return "—"
    yuan = Decimal(fen) / 100
    if locale == "zh_CN":
        quantum = Decimal(1).scaleb(-places)
        # The unit follows the rounded figure: 9,999.6 yuan is "1万", 99,999,999.99 yuan "1亿".
        in_wan = (yuan / WAN).quantize(quantum, rounding=ROUND_HALF_UP)
        if abs(in_wan) >= WAN:
            return _trim(_fixed(yuan / YI, places)) + "亿"
        if abs(yuan.quantize(Decimal(1), rounding=ROUND_HALF_UP)) >= WAN:
            return _trim(_fixed(yuan / WAN, places)) + "万"
        return _fixed(yuan, 0)
    return _fixed(yuan, 0)


def format_card_amount(fen: int | Decimal | None, locale: str) -> str:
    """A headline figure precise enough to see a 20万 change on a 2亿 total: always 万 with two places
    in Chinese (23,573.51万), whole yuan in English."""
    if fen is None:
        return "—"
    yuan = Decimal(fen) / 100
    return _fixed(yuan / WAN, 2) + "万" if locale == "zh_CN" else _fixed(yuan, 0)


def format_exact_yuan(fen: int | Decimal | None) -> str:
    """The exact amount, for a hover title: ¥235,731,234.56."""
    return "—" if fen is None else "¥" + _fixed(Decimal(fen) / 100, 2)


def format_input_amount(fen: int | Decimal, locale: str) -> str:
    """An amount in an input box, exact and readable, in a form `parse_yuan` reads back: 1,234.5万 in
    Chinese, 12,345,000 in English."""
    yuan = Decimal(fen) / 100
    if locale == "zh_CN":
        return _trim(f"{yuan / WAN:,.6f}") + "万"
    return _trim(f"{yuan:,.2f}")


def column_unit(amounts: Iterable[int | Decimal | None], locale: str) -> str:
    """One unit for a table column of amounts (fen): 亿 when every non-zero amount is at least 1亿, 元
    when every one is under 1万, 万 otherwise (so 5,000 yuan in a 万 column is 0.50); English columns
    are whole yuan ('')."""
    if locale != "zh_CN":
        return ""
    sizes = [abs(Decimal(a)) / 100 for a in amounts if a]
    if not sizes:
        return "万"
    return "亿" if min(sizes) >= YI else "元" if max(sizes) < WAN else "万"


def format_in_unit(fen: int | Decimal | None, unit: str, *, places: int = 2) -> str:
    """An amount in its column's unit (`column_unit`), without the unit: 1,234.57 in a 万 column,
    0.50 for 5,000 yuan there."""
    if fen is None:
        return "—"
    yuan = Decimal(fen) / 100
    if unit == "亿":
        return _fixed(yuan / YI, places)
    if unit == "万":
        return _fixed(yuan / WAN, places)
    return _fixed(yuan, 0)


def chart_unit(amounts: Iterable[int | Decimal], locale: str) -> tuple[int, str]:
    """The unit of a chart axis for amounts in fen: (fen per unit, axis name) — 万元 or 亿元 in
    Chinese, thousand or million yuan in English."""
    largest = max((abs(Decimal(a)) / 100 for a in amounts), default=Decimal(0))
    if locale == "zh_CN":
        return (10_000_000_000, "亿元") if largest >= YI else (1_000_000, "万元")
    return (100_000_000, "million ¥") if largest >= 1_000_000 else (100_000, "thousand ¥")


def format_percent(ratio: float | Decimal | None, places: int = 1) -> str:
    """0.8734 → '87.3%'."""
    if ratio is None:
        return "—"
    return _fixed(Decimal(str(ratio)) * 100, places) + "%"


def format_number(value: int | Decimal | None, locale: str) -> str:
    if value is None:
        return "—"
    return f"{value:,}"


def N_(message: str) -> str:
    """Mark a message id for the catalogue without translating it here (translated when shown)."""
    return message


# Message ids that reach templates as data (roles, statuses, import kinds and fields, menu entries).
DYNAMIC_MESSAGES = (
    N_("admin"), N_("director"), N_("manager"), N_("rep"),
    N_("queued"), N_("running"), N_("succeeded"), N_("failed"),
    N_("draft"), N_("submitted"), N_("approved"), N_("locked"), N_("superseded"),
    N_("orders"), N_("customers"), N_("reps"), N_("products"), N_("opportunities"), N_("activities"), N_("targets"),
    N_("Dashboard"), N_("Plans"), N_("Leaderboard"), N_("Today"), N_("Diagnosis"), N_("Customers"), N_("Inbox"), N_("Imports"),
    N_("Calendar"), N_("Settings"),
    N_("activity_date"), N_("amount"), N_("category"), N_("city"), N_("closed_on"), N_("code"), N_("cost"),
    N_("created_on"), N_("currency"), N_("customer"), N_("customer_name"), N_("customer_type"), N_("email"),
    N_("end_date"), N_("expected_close_on"), N_("external_id"), N_("first_order_date"), N_("grade"), N_("industry"),
    N_("invoiced_on"), N_("kind"), N_("launched_on"), N_("line"), N_("line_id"), N_("manager"), N_("name"),
    N_("negotiation_on"), N_("note"), N_("opportunity"), N_("order_date"), N_("order_id"), N_("org"),
    N_("original_sale_on"), N_("owner"), N_("paid_on"), N_("parent"), N_("percent"), N_("period"), N_("product"),
    N_("product_line"), N_("product_name"), N_("proposal_on"), N_("qualified_on"), N_("quantity"), N_("region"),
    N_("rep_name"), N_("returned_on"), N_("sales_team"), N_("segment"), N_("shipped_on"), N_("source"), N_("stage"),
    N_("start_date"), N_("strategy_note"), N_("team"), N_("title"), N_("unit_price"), N_("value"), N_("year"),
)
