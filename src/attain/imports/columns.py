"""Column-wise validation of a table: every parser runs over a whole column and collects row errors.

Values repeat a lot in order files (dates, rep and customer codes), so parsers that are expensive
per value run once per distinct value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import zip_longest
from typing import TypeVar

from attain.errors import RowError
from attain.imports.parsing import (
    clean_text,
    date_out_of_range,
    infer_date_format,
    parse_amount_column,
    parse_date_with,
    parse_decimal,
    strip_time,
)
from attain.imports.reading import Table

T = TypeVar("T")

# What exports write for "no value" (SQL Server's NULL, Excel's #N/A, a lone dash in a quota sheet).
EMPTY_MARKERS = frozenset({"NULL", "null", "Null", "N/A", "n/a", "#N/A", "NaN", "nan", "None", "-", "--", "—"})
_VOCABULARY_NOISE = re.compile(r"[\s\-_]+")
_MARKER = re.compile("\x00(?:" + "|".join(re.escape(m) for m in sorted(EMPTY_MARKERS, key=len, reverse=True)) + ")\x00")


class Columns:
    """The mapped columns of one table, parsed field by field; errors pile up in `errors`."""

    def __init__(self, table: Table, mapping: dict[str, list[int]], *, date_format: str | None = None):
        self.table = table
        self.mapping = mapping
        self.date_format = date_format
        self.errors: list[RowError] = []
        self._nul_reported: set[str] = set()
        self.width = len(table.header)
        # Column-major copy of the table: every parser below works on whole columns.
        self._columns = table.columns if table.columns is not None else list(zip_longest(*table.rows, fillvalue=""))
        self._check_row_widths()

    def __len__(self) -> int:
        return len(self.table.rows)

    @property
    def lines(self) -> list[int]:
        return self.table.lines

    def has(self, field: str) -> bool:
        return field in self.mapping

    def column_name(self, field: str) -> str:
        return "+".join(self.table.header[i] for i in self.mapping[field])

    def error(self, index: int, field: str, message: str) -> None:
        self.errors.append(RowError(self.table.lines[index], self.column_name(field) if field in self.mapping else field, message))

    def raw(self, field: str) -> list[str]:
        """The field's text in every row, trimmed ('' when absent); several columns join with '|'."""
        return self._raw_joined(field)[0]

    def _raw_joined(self, field: str) -> tuple[list[str], str]:
        """raw() and the values joined by NUL (with NUL at both ends): one contiguous string that
        C-level searches scan far faster than a million separate objects."""
        if field not in self.mapping:
            return [""] * len(self), "\x00" * (len(self) + 1)
        indexes = self.mapping[field]
        if len(indexes) == 1:
            if indexes[0] < len(self._columns):
                values, joined = _stripped(self._columns[indexes[0]])
            else:
                values, joined = [""] * len(self), "\x00" * (len(self) + 1)
        else:
            parts = [_stripped(self._columns[i])[0] if i < len(self._columns) else [""] * len(self) for i in indexes]
            values = ["|".join(p) for p in zip(*parts)]
            joined = "\x00" + "\x00".join(values) + "\x00"
        if joined.count("\x00") != len(values) + 1:
            values, joined = self._without_nul(field, values)
        # One regex search over the joined column beats hashing a million values.
        if _MARKER.search(joined):
            values = ["" if v in EMPTY_MARKERS else v for v in values]
            joined = "\x00" + "\x00".join(values) + "\x00"
        return values, joined

    def _without_nul(self, field: str, values: list[str]) -> tuple[list[str], str]:
        """A NUL character inside a value (a binary or damaged file): a row error, once per field, and
        the NUL shown as U+FFFD from here on. PostgreSQL cannot store NUL in text, and the joined
        column that the parsers scan uses NUL as its separator."""
        if field not in self._nul_reported:
            self._nul_reported.add(field)
            for index, value in enumerate(values):
                if "\x00" in value:
                    self.error(index, field, "contains a NUL character (byte 0); is the file binary or damaged?")
        values = [v.replace("\x00", "\ufffd") if "\x00" in v else v for v in values]
        return values, "\x00" + "\x00".join(values) + "\x00"

    def text(self, field: str, *, required: bool = False, max_length: int = 200) -> list[str | None]:
        return self._text(field, *self._raw_joined(field), required, max_length)

    def _text(self, field: str, values: list[str], joined: str, required: bool, max_length: int) -> list[str | None]:
        has_empty = "\x00\x00" in joined
        out: list[str | None] = [v or None for v in values] if has_empty else values  # type: ignore[assignment]
        too_long = len(joined) > max_length and re.search(f"[^\x00]{{{max_length + 1}}}", joined) is not None
        if too_long or (required and has_empty):
            for index, value in enumerate(values):
                if required and not value:
                    self.error(index, field, f"{field} is empty")
                elif len(value) > max_length:
                    self.error(index, field, f"longer than {max_length} characters ({len(value):,})")
        return out

    def codes(self, field: str, *, required: bool = False, max_length: int = 64) -> list[str | None]:
        """Codes (ids, rep and customer keys): NFKC-cleaned unless plainly ASCII already."""
        raw, joined = self._raw_joined(field)
        values = self._text(field, raw, joined, required, max_length)
        if joined.isascii() and ".0\x00" not in joined:
            return values  # plain ASCII codes are already clean
        cleaned = [v if v is None or (v.isascii() and not v.endswith(".0")) else clean_code(v) for v in values]
        # NFKC can lengthen a value ('㍿' is '株式会社'): the code stored must still fit.
        if max(map(len, filter(None, cleaned)), default=0) <= max_length:
            return cleaned
        for index, (value, code) in enumerate(zip(values, cleaned)):
            if code is not None and len(code) > max_length and value is not None and len(value) <= max_length:
                self.error(index, field, f"longer than {max_length} characters once normalised ({len(code):,}: '{code[:20]}…')")
        return cleaned

    def vocabulary(
        self, field: str, words: dict[str, str], what: str, *, required: bool = False, max_length: int = 32
    ) -> list[str | None]:
        """A column of words from a fixed vocabulary (stages, activity types, customer types), in
        Chinese or English; case, spaces, '-' and '_' do not matter. Unknown words are row errors
        saying "'x' is not <what>"."""
        out: list[str | None] = []
        for index, value in enumerate(self.text(field, required=required, max_length=max_length)):
            word = words.get(_VOCABULARY_NOISE.sub("", value.lower())) if value else None
            if value and word is None:
                self.error(index, field, f"'{value}' is not {what}")
            out.append(word)
        return out

    def amount(self, field: str, *, scale: int, multiplier: Decimal = Decimal(1), required: bool = False) -> list[int | None]:
        values, joined = self._raw_joined(field)
        amounts, errors = parse_amount_column(values, scale, multiplier, joined=joined)
        for index, message in errors.items():
            self.error(index, field, message)
        if required and "" in values:
            for index, value in enumerate(values):
                if not value:
                    self.error(index, field, f"{field} is empty")
        return amounts

    def number(self, field: str, *, required: bool = False, limit: Decimal | None = None) -> list[Decimal | None]:
        numbers = self._numbers(field, required)
        if limit is not None:
            for index, number in enumerate(numbers):
                if number is not None and abs(number) >= limit:
                    self.error(index, field, f"{number} is too large (the limit is {limit:,.0f})")
        return numbers

    def _numbers(self, field: str, required: bool) -> list[Decimal | None]:
        values = self.raw(field)
        distinct = set(values)
        parsed: dict[str, Decimal] = {}
        for value in distinct - {""}:  # quantities repeat: parse each distinct text once
            try:
                parsed[value] = _plain_decimal(value)
            except ValueError:
                break
        else:
            if "" not in distinct:
                return list(map(parsed.__getitem__, values))
            if not required:
                return list(map(parsed.get, values))
        return self._each(field, values, parse_decimal, required)

    def integer(self, field: str, *, required: bool = False) -> list[int | None]:
        def parse(text: str) -> int:
            number = parse_decimal(text)
            if number != number.to_integral_value():
                raise ValueError(f"'{text}' is not a whole number")
            return int(number)

        return self._each(field, self.raw(field), parse, required)

    def date(self, field: str, *, required: bool = False) -> list[date | None]:
        values = self.raw(field)
        distinct_all = set(values)
        distinct = distinct_all - {""}
        # Timestamps ('2011-10-06 16:20:00') are nearly all distinct, their days are not: parse
        # each day once (strptime costs ~100 µs a value; 30,000 timestamps took seconds).
        day_of = {value: strip_time(value.strip()) for value in distinct}
        days = set(day_of.values())
        fmt = self.date_format
        if fmt is None:
            try:
                fmt = infer_date_format(days)
            except ValueError as exc:
                ambiguous = "pass --date-format" in str(exc)
                if ambiguous:
                    self.errors.append(RowError(self.table.lines[0], self.column_name(field), str(exc)))
                    return [None] * len(values)
                fmt = "%Y-%m-%d"  # report each value that is not a date below
        parsed_days: dict[str, date] = {}
        bad_days: dict[str, str | None] = {}  # day → why it is refused (None: not a date at all)
        for day in days:
            try:
                parsed = parse_date_with(day, fmt)
            except ValueError:
                bad_days[day] = None
                continue
            reason = date_out_of_range(parsed)
            if reason is None:
                parsed_days[day] = parsed
            else:
                bad_days[day] = reason
        by_value: dict[str, date | None] = {value: parsed_days.get(day) for value, day in day_of.items()}
        hint = f" (expected {fmt})" if self.date_format else ""
        bad = {
            value: f"'{value}' is not a date{hint}" if bad_days[day] is None else f"'{value}' {bad_days[day]}"
            for value, day in day_of.items() if day in bad_days
        }
        if bad or (required and "" in distinct_all):
            for index, value in enumerate(values):
                if not value:
                    if required:
                        self.error(index, field, f"{field} is empty")
                elif value in bad:
                    self.error(index, field, bad[value])
        return list(map(by_value.get, values))  # '' and bad values map to None

    def _each(self, field: str, values: list[str], parse: Callable[[str], T], required: bool) -> list[T | None]:
        out: list[T | None] = []
        append = out.append
        for index, value in enumerate(values):
            if not value:
                if required:
                    self.error(index, field, f"{field} is empty")
                append(None)
                continue
            try:
                append(parse(value))
            except ValueError as exc:
                self.error(index, field, str(exc))
                append(None)
        return out

    def _check_row_widths(self) -> None:
        extra = self._columns[self.width :]
        if not any(any(cell.strip() for cell in column) for column in extra):
            return
        for row, line in zip(self.table.rows, self.table.lines):
            if len(row) > self.width and any(cell.strip() for cell in row[self.width :]):
                self.errors.append(
                    RowError(line, "(row)", f"{len(row)} fields but the header has {self.width}; is a comma inside a value unquoted?")
                )


_EDGE_SPACE = re.compile(r"\s\x00|\x00\s")


def _stripped(column: tuple[str, ...]) -> tuple[list[str], str]:
    """The column's values without surrounding spaces, and those values joined by NUL (with NUL
    at both ends). Values are stripped only when the joined text shows a space at some edge."""
    joined = "\x00" + "\x00".join(column) + "\x00"
    if _EDGE_SPACE.search(joined) is None:
        return list(column), joined
    values = list(map(str.strip, column))
    return values, "\x00" + "\x00".join(values) + "\x00"


def _plain_decimal(text: str) -> Decimal:
    """'12', '1.5' quickly; anything else goes through parse_decimal (commas, 万, currency marks)."""
    if "_" in text:  # Decimal() takes underscores in odd places ('_-0'); parse_decimal has the rule
        return parse_decimal(text)
    try:
        number = Decimal(text)
    except ArithmeticError:
        return parse_decimal(text)
    if not number.is_finite() or "e" in text.lower():
        raise ValueError(f"'{text}' is not a number")
    return number


def duplicates(keys: list[str | None], columns: Columns, field: str, what: str) -> None:
    """Report every repeat of a key inside the file, naming the line where it first appeared."""
    if len(set(keys)) == len(keys):
        return
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            columns.error(index, field, f"duplicate {what} '{key}' (first on line {columns.lines[first[key]]})")
        else:
            first[key] = index


def clean_code(value: str) -> str:
    """Codes compare after NFKC and trimming; '12923.0' from a float-typed export becomes '12923'."""
    text = clean_text(value)
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text
