"""Pure parsing of the values found in ERP/CRM exports: amounts, numbers, dates, header names.

Amounts are returned as integers in minor units (fen when scale is 2); they never pass through
float. Each parser raises ValueError with a short reason; the import service attaches line and
column to it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_CURRENCY_MARKS = re.compile(r"(?i)^(rmb|cny|usd|eur|hkd|us\$|¥|\$|€|£|元)|(rmb|cny|usd|eur|hkd|元)$")
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1_000), "k": Decimal(1_000), "K": Decimal(1_000)}
_EXCEL_EPOCH = date(1899, 12, 30)
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")


def clean_text(value: str) -> str:
    """NFKC-normalise (full-width digits and punctuation become ASCII) and trim."""
    return unicodedata.normalize("NFKC", value).strip()


def parse_decimal(text: str) -> Decimal:
    """A number as written in a business file: '1,234.50', '¥1,234.5', '12.3万', '(1,200.00)', '-5'.

    Raises ValueError for anything else (empty, 'abc', 'NaN', '1.2.3').
    """
    s = clean_text(text).replace("\u2212", "-")  # U+2212 MINUS SIGN, as word processors write it
    if not s:
        raise ValueError("empty number")
    # One sign at most: '(5)', '-5', '¥-5' and '-¥5' are -5; '--5', '(-5)' and '-¥-5' are typos
    # whose meaning nobody can tell (they were read as +5), so they are refused.
    signs: list[str] = []
    if s.startswith("(") and s.endswith(")"):
        signs.append("-")
        s = s[1:-1].strip()
    if s[:1] in ("-", "+"):
        signs.append(s[0])
        s = s[1:].strip()
    s = _CURRENCY_MARKS.sub("", s).strip()
    if s[:1] in ("-", "+"):  # "¥-12" puts the sign after the currency mark
        signs.append(s[0])
        s = s[1:].strip()
    if len(signs) > 1 or s[:1] in ("-", "+"):
        raise ValueError(f"'{text.strip()}' has more than one sign")
    negative = signs == ["-"]
    multiplier = Decimal(1)
    if s and s[-1] in _MULTIPLIERS:
        multiplier, s = _MULTIPLIERS[s[-1]], s[:-1].strip()
        if s.endswith("元"):
            s = s[:-1].strip()
    if s.endswith("%"):
        multiplier, s = multiplier / 100, s[:-1].strip()
    if "," in s:
        # Thousands separators must group by three: '1,234.50' yes; '1,5' or European '1.234,50' no.
        if not _GROUPED.fullmatch(s):
            raise ValueError(f"'{text.strip()}' has misplaced thousands separators")
        s = s.replace(",", "")
    s = s.replace(" ", "").replace("_", "")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+|\d+(\.\d*)?[eE][-+]?\d+", s):
        raise ValueError(f"'{text.strip()}' is not a number")
    try:
        number = Decimal(s) * multiplier
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise ValueError(f"'{text.strip()}' is not a number") from exc
    return -number if negative else number


# The largest amount stored: 10**15 yuan in fen still fits a 64-bit integer with room for sums.
MAX_MINOR = 10**17


def to_minor(number: Decimal, scale: int) -> int:
    """Decimal amount → integer minor units, rounding half up below the minor unit (accounting rule).

    Raises ValueError for amounts too large to store.
    """
    try:
        minor = int(number.scaleb(scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except ArithmeticError as exc:  # quantize beyond the context's 28 digits, or an infinite value
        raise ValueError(f"{number} is too large an amount") from exc
    if abs(minor) >= MAX_MINOR:
        raise ValueError(f"{number} is too large an amount (more than {MAX_MINOR // 10**scale:,})")
    return minor


def make_amount_parser(scale: int, multiplier: Decimal = Decimal(1)) -> Callable[[str], int]:
    """A parser from text to integer minor units, with a fast path for plain '1234.5' strings."""
    factor = 10**scale

    def parse(text: str) -> int:
        if multiplier == 1 and text.isascii():
            whole, dot, frac = text.partition(".")
            # isdigit() also admits '①' and '²', which int() refuses: ASCII decimals only here.
            if whole.isdecimal() and len(whole) <= 15 and (not dot or (frac.isdecimal() and len(frac) <= scale)):
                return int(whole) * factor + (int(frac.ljust(scale, "0")) if frac else 0)
        return to_minor(parse_decimal(text) * multiplier, scale)

    return parse


def _uniform_amounts(joined: str, scale: int) -> list[int] | None:
    """When every value has exactly `scale` decimals (or none at all) — as ERP exports write them —
    one regex pass over the NUL-joined column proves it, and int() reads the digits directly."""
    if len(joined) < 2:
        return None
    body = joined[1:-1]
    if scale and re.fullmatch(rf"\d{{1,15}}\.\d{{{scale}}}(?:\x00\d{{1,15}}\.\d{{{scale}}})*", body):
        return list(map(int, body.replace(".", "").split("\x00")))
    if re.fullmatch(r"\d{1,15}(?:\x00\d{1,15})*", body):
        factor = 10**scale
        return [int(v) * factor for v in body.split("\x00")]
    return None


def parse_amount_column(
    values: list[str], scale: int, multiplier: Decimal = Decimal(1), *, joined: str | None = None
) -> tuple[list[int | None], dict[int, str]]:
    """A whole column of amounts → minor units (None for blanks) and {row index: reason} for bad ones.

    Plain values such as '1234.5' are converted by vectorised NumPy string operations, digit by
    digit (no float); anything else ('1,234.50', '12.3万', '-5') goes through `parse_decimal`.
    """
    import numpy as np

    out: list[int | None] = [None] * len(values)
    if not values:
        return out, {}
    slow = range(len(values))
    # The vectorised path reads ASCII digits only (full-width or circled digits go the slow way).
    if joined is None:
        joined = "\x00" + "\x00".join(values) + "\x00"
    if multiplier == 1:
        uniform = _uniform_amounts(joined, scale)
        if uniform is not None:
            return uniform, {}  # type: ignore[return-value]
    if multiplier == 1 and joined.isascii():
        texts = np.array(values, dtype=np.str_)
        whole, dot, frac = np.strings.partition(texts, ".")
        plain = (
            np.strings.isdecimal(whole)
            & (np.strings.str_len(whole) <= 15)
            & ((dot == "") | (np.strings.isdecimal(frac) & (np.strings.str_len(frac) <= scale)))
        )
        plain_rows = np.flatnonzero(plain)
        minor = whole[plain_rows].astype(np.int64) * 10**scale
        if scale and plain_rows.size:  # (ljust of an empty array fails in NumPy)
            minor += np.strings.ljust(frac[plain_rows], scale, "0").astype(np.int64)
        if plain_rows.size == len(values):
            return minor.tolist(), {}
        column = np.full(len(values), None, dtype=object)
        column[plain_rows] = minor.tolist()
        out = column.tolist()
        slow = np.flatnonzero(~plain).tolist()
    parse = make_amount_parser(scale, multiplier)
    errors: dict[int, str] = {}
    for index in slow:
        value = values[index]
        if not value:
            continue
        try:
            out[index] = parse(value)
        except ValueError as exc:
            errors[index] = str(exc)
    return out, errors


# --- dates -----------------------------------------------------------------------------------

# Formats tried when none is given; a column's format is the first that parses every value.
# Day-first and month-first slashed dates are both tried: a column that fits both is ambiguous.
_ISO_LIKE = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_SLASHED = ("%d/%m/%Y", "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y")
# Year-first dates are never ambiguous, so a column may mix them (2026-01-05 and 2026/02/01).
ANY_YEAR_FIRST = "year-first"
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AaPp][Mm])?([+-]\d{2}:?\d{2}|Z)?$")


# Dates outside these years are typos or placeholders (9999-12-31, 0001-01-01), never business dates;
# they used to reach the rollups, whose month arithmetic fails past year 9999.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def date_out_of_range(value: date) -> str | None:
    """Why `value` is not a plausible business date, or None when it is one."""
    if EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return f"is outside the years {EARLIEST_DATE.year}–{LATEST_DATE.year}"


def strip_time(text: str) -> str:
    """'2011-10-06 16:20:00' → '2011-10-06' (a time after a date is ignored)."""
    return _TIME_SUFFIX.sub("", text)



def parse_date_with(text: str, fmt: str) -> date:
    """Parse with one strptime format (a time part after the date is ignored)."""
    s = strip_time(clean_text(text))
    if fmt == "excel":
        return excel_serial_to_date(s)
    if fmt == ANY_YEAR_FIRST:
        for candidate in _ISO_LIKE:
            try:
                return datetime.strptime(s, candidate).date()
            except ValueError:
                continue
        raise ValueError(f"'{text}' is not a date")
    return datetime.strptime(s, fmt).date()


def excel_serial_to_date(text: str) -> date:
    serial = float(text)
    if not 1 <= serial < 2_958_466:
        raise ValueError(f"'{text}' is not an Excel date serial")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def infer_date_format(values: Iterable[str]) -> str:
    """The format that parses every (distinct, non-empty) value of a column.

    Raises ValueError when none does, or when both day-first and month-first fit (01/02/2026
    could be 1 February or 2 January): the user must then pass --date-format.
    """
    distinct = [v for v in set(values) if v.strip()]
    if not distinct:
        return "%Y-%m-%d"
    sample = distinct[:2000]
    candidates: list[str] = []
    for fmt in (*_ISO_LIKE, *_SLASHED):
        if all(_parses(v, fmt) for v in sample):
            candidates.append(fmt)
            if fmt in _ISO_LIKE:
                break
    if not candidates and all(re.fullmatch(r"\d{5}(\.\d+)?", clean_text(v)) for v in sample):
        return "excel"
    candidates = [fmt for fmt in candidates if all(_parses(v, fmt) for v in distinct)]
    if not candidates:
        if sum(_parses(v, ANY_YEAR_FIRST) for v in sample) * 2 > len(sample):
            return ANY_YEAR_FIRST  # mostly year-first: the values that are not dates get row errors
        raise ValueError("no known date format fits this column")
    day_first = [f for f in candidates if f.startswith("%d")]
    month_first = [f for f in candidates if f.startswith("%m")]
    if day_first and month_first:
        raise ValueError(
            f"dates such as '{sample[0]}' fit both day-first ({day_first[0]}) and month-first "
            f"({month_first[0]}); pass --date-format"
        )
    return candidates[0]


def _parses(value: str, fmt: str) -> bool:
    try:
        parse_date_with(value, fmt)
    except ValueError:
        return False
    return True


# --- header names ----------------------------------------------------------------------------

_BRACKETED = re.compile(r"[(\[（【].*?[)\]）】]")


def normalise_header(name: str) -> str:
    """'Order Date ' → 'orderdate', '金额（元）' → '金额', 'sales_rep' → 'salesrep'."""
    s = clean_text(name).lower()
    s = _BRACKETED.sub("", s)
    return re.sub(r"[\s_\-./:#*]+", "", s)


def header_multiplier(name: str) -> Decimal:
    """A unit written in a header: '金额(万元)' means values are in 10,000s."""
    s = clean_text(name)
    if re.search(r"[(\[（【]\s*万", s):
        return Decimal(10_000)
    if re.search(r"[(\[（【]\s*(千|k(?![a-z]))", s, re.IGNORECASE):
        return Decimal(1_000)
    return Decimal(1)
