"""Reading CSV and Excel files into rows of text, with the line number of every row.

Encodings: UTF-8 (with or without BOM), UTF-16 (BOM or not), GBK/GB18030 — detected, not asked for.
Excel: .xlsx, .xlsm, .xls, .xlsb and .ods through python-calamine, any sheet — measured first and read in
a memory-limited child process (`read_workbook`), so that no workbook can take the process down.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from attain.errors import InvalidInput

if TYPE_CHECKING:
    from attain.imports.excel_worker import Sheets

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
MAX_FIELD_CHARS = 100_000  # a longer field is a broken file (an unclosed quote swallowing the rest)
HEADER_SEARCH_ROWS = 10  # ERP exports often put a title and a blank line above the header


@dataclass(frozen=True)
class Table:
    """A file's data rows as text, under one header row. `lines[i]` is the file line of `rows[i]`.

    `columns`, when set, holds the same data column by column (the fast CSV path reads it that
    way); `rows` is then a view that builds a row when asked for one.
    """

    source: str
    header: list[str]
    rows: Sequence[list[str]]
    lines: list[int]
    encoding: str | None
    sheet: str | None = None
    columns: list[list[str]] | None = None


class _RowView(Sequence[list[str]]):
    """Rows over column-major data, built on access."""

    def __init__(self, columns: list[list[str]]):
        self._columns = columns

    def __len__(self) -> int:
        return len(self._columns[0]) if self._columns else 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        if isinstance(index, slice):
            return [list(row) for row in zip(*(column[index] for column in self._columns))]
        return [column[index] for column in self._columns]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"_RowView({list(self)!r})"


def decode(raw: bytes, source: str) -> tuple[str, str]:
    """Decode file bytes; return (text, encoding name). Tries UTF-8/16 then GB18030 (a GBK superset)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return _strict(raw[3:], "utf-8", source, offset=3), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(raw, "utf-16", source), "utf-16"
    head = raw[:4000]
    if len(head) >= 4 and head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a BOM: ASCII characters (digits, commas, newlines) leave every other byte
        # zero — the odd bytes in little-endian, the even ones in big-endian.
        odd_zeros, even_zeros = head[1::2].count(0), head[0::2].count(0)
        encoding = "utf-16-le" if odd_zeros >= even_zeros else "utf-16-be"
        return _strict(raw, encoding, source), encoding
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030":
            _check_reads_as_chinese(text, raw, source)
        return text, encoding
    raise InvalidInput.coded("imports.reading.unknown_text_encoding_expected", source=source)


def _check_reads_as_chinese(text: str, raw: bytes, source: str) -> None:
    """Refuse GB18030 text that is mojibake. Most byte strings decode as GB18030, so a Shift-JIS or
    Big5 file 'decodes' too, into characters Chinese text seldom uses: GBK's double-byte characters
    outside GB2312 (the 6,763 common hanzi, kana and symbols). In a real GBK export they are a few
    rare names; in a Shift-JIS file nearly every character is one."""
    from collections import Counter

    counts = Counter(ch for ch in text[:200_000] if ch > "\x7f")
    rare = {ch: n for ch, n in counts.items() if _outside_gb2312(ch)}
    found, total = sum(rare.values()), sum(counts.values())
    if found < 2 or found * 3 <= total:
        return
    examples = "".join(sorted(rare, key=lambda ch: -rare[ch])[:6])
    try:
        raw.decode("cp932")
        guess = "Shift-JIS (Japanese)"
    except UnicodeDecodeError:
        guess = "another encoding (Shift-JIS, Big5?)"
    raise InvalidInput.coded("imports.reading.file_does_read_cleanly", source=source, found=found, total=total, examples=examples, guess=guess)


def _outside_gb2312(ch: str) -> bool:
    """A double-byte GBK character that GB2312 lacks."""
    try:
        if len(ch.encode("gbk")) != 2:
            return False
    except UnicodeEncodeError:
        return False  # GB18030's four-byte characters (Latin letters, '¥') are not what mojibake gives
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return False


def _strict(raw: bytes, encoding: str, source: str, offset: int = 0) -> str:
    """Decode or fail naming the file offset of the first bad byte (`offset`: bytes already cut off)."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidInput.coded("imports.reading.file_says_but_byte", source=source, encoding=encoding, value=exc.start + offset) from exc


_QUOTED = re.compile(r'"[^"]*"')


def _sniff_delimiter(first_lines: str) -> str:
    """The most frequent of , tab ; | outside quoted values in the first lines."""
    unquoted = _QUOTED.sub("", first_lines)
    counts = {d: unquoted.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(
    path: Path, *, header_score: Callable[[list[str]], int], has_header: bool = True, column_names: Sequence[str] = ()
) -> Table:
    source = path.name
    raw = _read_bytes(path)
    text, encoding = decode(raw, source)
    if not text or text.isspace():
        raise InvalidInput.coded("imports.reading.file_empty", source=source)
    delimiter = _sniff_delimiter("\n".join(text[:20_000].splitlines()[:5]))
    if has_header:
        columns = _plain_columns(text, delimiter)
        if columns is not None:
            return _columns_with_header(source, columns, encoding, header_score)
    csv.field_size_limit(MAX_FIELD_CHARS)
    # strict: an unclosed quote is an error, not a field that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
        if reader.line_num == len(rows):
            lines = list(range(1, len(rows) + 1))  # one row per line: the usual case, no per-row work
        else:
            rows, lines = _rows_with_lines(text, delimiter)  # quoted values span lines
    except csv.Error as exc:
        line = _start_of_broken_row(text, delimiter)
        if "limit" in str(exc):
            reason = "a field longer than 100,000 characters; is a quote left open?"
        elif "end of data" in str(exc):
            reason = "a quote opened in this row is never closed"
        else:
            reason = str(exc)
        raise InvalidInput.coded("imports.reading.line_unreadable_csv", source=source, line=line, reason=reason) from exc
    return _with_header(source, rows, lines, encoding, None, header_score, has_header, column_names)


def _plain_columns(text: str, delimiter: str) -> list[list[str]] | None:
    """The file split straight into columns, when that is safe: no quotes, no carriage returns,
    every line with the same number of fields, no blank line and no field over the size limit.
    None otherwise (the csv module then reads the file). Twice as fast as csv plus a transpose."""
    import numpy as np

    if '"' in text or "\r" in text or len(delimiter) != 1 or not delimiter.isascii():
        return None
    body = text.removesuffix("\n")
    if not body or "\n\n" in body or body.startswith("\n"):
        return None
    data = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    line_ends = np.append(np.flatnonzero(data == 10), data.size)
    delimiters = np.flatnonzero(data == ord(delimiter))
    per_line = np.diff(np.searchsorted(delimiters, line_ends), prepend=0)
    width = int(per_line[0]) + 1
    if np.any(per_line != width - 1):
        return None
    line_bytes = np.diff(line_ends, prepend=-1) - 1
    # Blank rows (only delimiters and spaces) are dropped by the csv path: step aside for them.
    # Lines without a visible ASCII byte are the candidates, checked exactly in Python.
    visible = (data > 32) & (data < 127) & (data != ord(delimiter))
    line_starts = np.append(0, line_ends[:-1] + 1)
    candidates = np.flatnonzero(np.add.reduceat(visible, np.minimum(line_starts, max(data.size - 1, 0)), dtype=np.int32) == 0)
    if candidates.size:
        lines = body.split("\n")
        if any(not lines[i].replace(delimiter, "").strip() for i in candidates.tolist()):
            return None
    if width == 1 and int(line_bytes.max()) > MAX_FIELD_CHARS:
        return None
    fields = body.replace("\n", delimiter).split(delimiter)
    columns = [fields[i::width] for i in range(width)]
    if int(line_bytes.max()) > MAX_FIELD_CHARS and any(max(map(len, c)) > MAX_FIELD_CHARS for c in columns):
        return None  # the csv path reports the oversized field with its line
    return columns


def _header_index(rows: Sequence[list[str]], header_score: Callable[[list[str]], int]) -> int:
    """The row among the first few that looks most like a header (most recognised column names);
    with none recognised, the first row that is not blank."""
    best_index, best_score = 0, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = header_score(row)
        if score > best_score:
            best_index, best_score = index, score
    if best_score == 0:
        best_index = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), 0)
    return best_index


def _columns_with_header(
    source: str, columns: list[list[str]], encoding: str, header_score: Callable[[list[str]], int]
) -> Table:
    rows = _RowView(columns)
    best_index = _header_index(rows, header_score)  # the fast path has no blank rows
    header = [h.strip().lstrip("\ufeff") for h in rows[best_index]]
    data = [column[best_index + 1 :] for column in columns]
    if not data[0]:
        raise InvalidInput.coded("imports.reading.data_rows_under_header", source=source)
    lines = list(range(best_index + 2, best_index + 2 + len(data[0])))
    return Table(source, header, _RowView(data), lines, encoding, None, data)


def _start_of_broken_row(text: str, delimiter: str) -> int:
    """The line on which the row that the CSV reader could not finish begins."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_line = 0
    try:
        for _row in reader:
            previous_line = reader.line_num
    except csv.Error:
        pass
    return previous_line + 1


def _rows_with_lines(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Rows with the file line each starts on, for files whose quoted values contain line breaks."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    previous_line = 0
    for row in reader:
        lines.append(previous_line + 1)
        previous_line = reader.line_num
        rows.append(row)
    return rows, lines


def read_workbook(
    path: Path, *, sheets: Sequence[str] | None, trimmed: Sequence[str] = (), as_text: bool = False
) -> Sheets:
    """The sheet names of an Excel or OpenDocument workbook and the rows of `sheets` (None: the first
    sheet; a sheet the workbook lacks is left out), read so that no file can take the process down.

    The file is first measured against the limits in `workbook_limits` (rows, columns, cells, unzipped
    size, XML entities), then read by calamine in a memory-limited child process (`excel_worker`).
    Rows are padded out to A1, so that rows[i] is sheet row i + 1, except for the sheets in
    `trimmed`, which start at their first row and column holding something. `as_text`: cells as
    `cell_text` writes them; otherwise calamine's values (numbers, dates, text)."""
    from attain.imports import excel_worker, workbook_limits

    if not path.exists():
        raise InvalidInput.coded("imports.reading.such_file", path=path)
    workbook_limits.check_workbook(path, path.name)
    return excel_worker.read_sheets(path, source=path.name, sheets=sheets, trimmed=trimmed, as_text=as_text,
                                    max_cells=workbook_limits.MAX_SHEET_CELLS)


def read_excel(
    path: Path,
    *,
    sheet: str | None,
    header_score: Callable[[list[str]], int],
    has_header: bool = True,
    column_names: Sequence[str] = (),
) -> Table:
    source = path.name
    workbook = read_workbook(path, sheets=None if sheet is None else [sheet], as_text=True)
    names = workbook.sheet_names
    if not names:
        raise InvalidInput.coded("imports.reading.workbook_sheets", source=source)
    if sheet is None:
        sheet = names[0]
    elif sheet not in names:
        raise InvalidInput.coded("imports.reading.sheet_named_sheets", source=source, sheet=sheet, items=', '.join(names))
    rows = workbook.rows[sheet]
    lines = list(range(1, len(rows) + 1))
    for row, line in zip(rows, lines):
        if any(len(cell) > MAX_FIELD_CHARS for cell in row):
            raise InvalidInput.coded("imports.reading.sheet_row_cell_longer", source=source, sheet=sheet, line=line, max_field_chars=MAX_FIELD_CHARS)
    if not any(any(cell for cell in row) for row in rows):
        raise InvalidInput.coded("imports.reading.sheet_empty", source=source, sheet=sheet)
    return _with_header(source, rows, lines, None, sheet, header_score, has_header, column_names)


def read_table(
    path: Path,
    *,
    header_score: Callable[[list[str]], int],
    sheet: str | None = None,
    has_header: bool = True,
    column_names: Sequence[str] = (),
) -> Table:
    """Read a CSV or Excel file. `header_score` rates a row as a header (recognised column names).

    `column_names` names the columns of a file without a header row (and implies there is none);
    columns left unnamed are called column<N>."""
    if column_names:
        has_header = False
    if not path.exists():
        raise InvalidInput.coded("imports.reading.such_file", path=path)
    if path.is_dir():
        raise InvalidInput.coded("imports.reading.folder_file", path=path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_excel(path, sheet=sheet, header_score=header_score, has_header=has_header, column_names=column_names)
    if sheet is not None:
        raise InvalidInput.coded("imports.reading.sheet_applies_excel_files", name=path.name)
    return read_csv(path, header_score=header_score, has_header=has_header, column_names=column_names)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput.coded("imports.reading.cannot_read_file", path=path, strerror=exc.strerror) from exc


def column_name(number: int) -> str:
    """Excel's letters for the 1-based column `number` (1 → A, 16384 → XFD)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(value: object) -> str:
    """A spreadsheet cell's value as the text an import reads (numbers as Excel shows them)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # Excel keeps 15 significant digits and shows them: 213.115 is stored as the double
        # 213.11499999999998, whose shortest repr would round to 213.11 instead of 213.12.
        return f"{value:.15g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _with_header(
    source: str,
    rows: list[list[str]],
    lines: list[int],
    encoding: str | None,
    sheet: str | None,
    header_score: Callable[[list[str]], int],
    has_header: bool,
    column_names: Sequence[str] = (),
) -> Table:
    if not has_header:
        width = max((len(r) for r in rows), default=0)
        return _trimmed(Table(source, _headerless_names(source, column_names, width), rows, lines, encoding, sheet))
    best_index = _header_index(rows, header_score)
    header = [h.strip().lstrip("\ufeff") for h in rows[best_index]]
    return _trimmed(Table(source, header, rows[best_index + 1 :], lines[best_index + 1 :], encoding, sheet))


def _headerless_names(source: str, names: Sequence[str], width: int) -> list[str]:
    """Header for a file without one: the given names, then column<N> for the columns left unnamed."""
    cleaned = [name.strip() for name in names]
    if len(cleaned) > width:
        raise InvalidInput.coded("imports.reading.columns_names_columns_but", source=source, count=len(cleaned), items=', '.join(cleaned), width=width)
    if any(not name for name in cleaned):
        raise InvalidInput.coded("imports.reading.columns_empty_name", source=source, items=','.join(names))
    repeated = sorted({name for name in cleaned if cleaned.count(name) > 1})
    if repeated:
        raise InvalidInput.coded("imports.reading.columns_names_more_once", source=source, items=', '.join(repeated))
    return cleaned + [f"column{i + 1}" for i in range(len(cleaned), width)]


def _trimmed(table: Table) -> Table:
    """Drop blank rows (trailing empty lines, spacer rows between blocks)."""
    joined = list(map("".join, table.rows))
    blank: list[int] = []
    if not all(joined) or any(map(str.isspace, joined)):  # C-level checks before any row loop
        blank = [i for i, text in enumerate(joined) if not text.strip()]
    kept_rows, kept_lines = table.rows, table.lines
    if blank:
        drop = set(blank)
        kept_rows = [row for i, row in enumerate(table.rows) if i not in drop]
        kept_lines = [line for i, line in enumerate(table.lines) if i not in drop]
    if not kept_rows:
        raise InvalidInput.coded("imports.reading.data_rows_under_header", source=table.source)
    return Table(table.source, table.header, kept_rows, kept_lines, table.encoding, table.sheet)
