"""What a spreadsheet may declare, checked before python-calamine reads it (spreadsheet bombs).

calamine builds a sheet as one rectangular array spanning its non-empty cells, and Attain pads that
array out to A1 so that lines are the sheet's row numbers: a 5 KB workbook with one cell at
XFD1048576 asks for 1,048,576 × 16,384 cells (512 GiB) and the process aborts — no exception to
catch. So every workbook is measured here first, from its bytes, without trusting what it says:

- zip-based files (.xlsx, .xlsm, .xlsb, .ods): at most MAX_PARTS parts; a part over
  RATIO_GRACE_BYTES may expand at most MAX_COMPRESSION_RATIO times (real sheets: 8–20); all parts
  together unzip to at most MAX_UNZIPPED_BYTES. Every part is inflated here (as calamine will
  inflate it, to the end of its compressed data) and counted, so a part hiding more than its header
  declares is caught too. An XML part that declares a DOCTYPE (billion laughs, external entities)
  or is not UTF-8 is refused: Excel and LibreOffice never write one.
- every sheet: each cell that holds something is located (r="..." in .xlsx; repeated rows and
  columns in .ods; records in .xls/.xlsb) and must lie within Excel's MAX_ROWS × MAX_COLUMNS, and
  the sheet may span at most MAX_SHEET_CELLS cells from A1 to its last row and column. A workbook
  may hold (and, in sharedStrings.xml's uniqueCount, declare: calamine reserves room for them) at
  most MAX_SHEET_CELLS shared strings.
- .xls (OLE compound file): at most MAX_XLS_BYTES; the DIMENSIONS record each sheet declares (calamine
  reserves memory for it) and the cells themselves keep the same limits.

A file that is neither a zip nor an OLE file is left to calamine, which reads it in a child process
with a memory limit (attain.imports.excel_worker): the last line of defence for whatever this
module cannot see.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from attain.errors import InvalidInput
from attain.imports.reading import column_name

MAX_ROWS = 1_048_576  # Excel's own limits
MAX_COLUMNS = 16_384
MAX_SHEET_CELLS = 20_000_000  # from A1 to the last row and column: 1,000,000 rows × 20 columns
MAX_UNZIPPED_BYTES = 1 << 30
MAX_COMPRESSION_RATIO = 100
RATIO_GRACE_BYTES = 1 << 20  # small parts of repeated markup may compress better than sheets do
MAX_PARTS = 10_000
MAX_XLS_BYTES = 256 << 20
MAX_TAG_BYTES = 16 << 20  # one XML tag (or one .xlsb record) longer than this is no spreadsheet
CHUNK_BYTES = 4 << 20  # inflate this much at a time

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class _Refused(Exception):
    """A limit broken inside a part (or an .xls sheet), before the message can name the sheet."""

    def __init__(self, part: str, message: str):
        super().__init__(message)
        self.part = part
        self.message = message


def check_workbook(path: Path, source: str | None = None) -> None:
    """Refuse (InvalidInput) a spreadsheet that breaks a limit above; files of other kinds pass."""
    source = source or path.name
    try:
        with path.open("rb") as file:
            magic = file.read(8)
    except OSError as exc:
        raise InvalidInput.coded("imports.workbook_limits.cannot_read_file", path=path, strerror=exc.strerror) from exc
    if magic.startswith(ZIP_MAGIC):
        _check_zip(path, source)
    elif magic == OLE_MAGIC:
        _check_xls(path, source)


# --- cell positions -------------------------------------------------------------------------------


@dataclass
class Extent:
    """The cells of one sheet that hold something: how many, and the last row and column (1-based)."""

    cells: int = 0
    last_row: int = 0
    last_column: int = 0

    def add(self, row: int, column: int, count: int = 1) -> None:
        self.cells += count
        self.last_row = max(self.last_row, row)
        self.last_column = max(self.last_column, column)

    def check(self, part: str) -> None:
        """Raise _Refused when a cell lies beyond Excel or the sheet spans too many cells."""
        corner = f"{column_name(self.last_column)}{self.last_row}"
        if self.last_row > MAX_ROWS or self.last_column > MAX_COLUMNS:
            raise _Refused(part, f"reaches {corner} (row {self.last_row:,}, column {self.last_column:,}), beyond "
                                 f"Excel's last cell XFD{MAX_ROWS}")
        span = self.last_row * self.last_column
        if span > MAX_SHEET_CELLS:
            raise _Refused(part, f"reaches cell {corner}: A1:{corner} is {self.last_row:,} rows × {self.last_column:,} "
                                 f"columns = {span:,} cells, more than the limit of {MAX_SHEET_CELLS:,}; delete what "
                                 "lies beyond the data, or save the sheet as CSV")
        if self.cells > MAX_SHEET_CELLS:  # cells given twice or more: calamine keeps each one
            raise _Refused(part, f"holds {self.cells:,} cells, more than the limit of {MAX_SHEET_CELLS:,}")


# --- zip-based workbooks -------------------------------------------------------------------------


def _check_zip(path: Path, source: str) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise InvalidInput.coded("imports.workbook_limits.readable_excel_workbook", source=source, exc=exc) from exc
    with archive, path.open("rb") as raw:
        parts = archive.infolist()
        _check_directory(parts, source)
        is_xlsb = any(info.filename.lower() == "xl/workbook.bin" for info in parts)
        binary_sheets = _xlsb_sheet_parts(archive) if is_xlsb else set()
        unzipped = 0
        try:
            for info in parts:
                unzipped = _check_part(raw, info, source, unzipped, binary_sheets)
        except _Refused as refused:
            raise InvalidInput.coded("imports.workbook_limits.error", source=source, sheet_label=_sheet_label(archive, refused.part), message=refused.message) from None


def _check_directory(parts: list[zipfile.ZipInfo], source: str) -> None:
    """What the zip's directory declares: the number of parts, their sizes and compression."""
    if len(parts) > MAX_PARTS:
        raise InvalidInput.coded("imports.workbook_limits.readable_excel_workbook_holds", source=source, count=len(parts), max_parts=MAX_PARTS)
    declared = 0
    for info in parts:
        if info.flag_bits & 0x1:
            raise InvalidInput.coded("imports.workbook_limits.readable_excel_workbook_part_2", source=source, filename=info.filename)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InvalidInput.coded("imports.workbook_limits.readable_excel_workbook_part_3", source=source, filename=info.filename, compress_type=info.compress_type)
        if info.file_size > RATIO_GRACE_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise InvalidInput.coded("imports.workbook_limits.part_expands_times_when", source=source, filename=info.filename, ratio=ratio, compress_size=info.compress_size, file_size=info.file_size, max_compression_ratio=MAX_COMPRESSION_RATIO)
        declared += info.file_size
        if declared > MAX_UNZIPPED_BYTES:
            raise _too_big(source)


def _too_big(source: str) -> InvalidInput:
    return InvalidInput.coded("imports.workbook_limits.too_big", source=source, mebibytes=MAX_UNZIPPED_BYTES >> 20)


def _check_part(raw: BinaryIO, info: zipfile.ZipInfo, source: str, unzipped: int, binary_sheets: set[str]) -> int:
    """Inflate and scan one part; return the bytes unzipped so far, this part included."""
    scanner: _XmlScanner | _XlsbSheetScanner | None = None
    size = 0
    for chunk in _inflate(raw, info, source):
        if size == 0:
            kind = _part_kind(info.filename, chunk, binary_sheets)
            if kind == "utf-16":
                raise InvalidInput.coded("imports.workbook_limits.readable_excel_workbook_part_5", source=source, filename=info.filename)
            if kind == "xml":
                scanner = _XmlScanner(info.filename, ods=info.filename == "content.xml")
            elif kind == "xlsb-sheet":
                scanner = _XlsbSheetScanner(info.filename)
        size += len(chunk)
        if unzipped + size > MAX_UNZIPPED_BYTES:
            raise _too_big(source)
        if size > info.file_size:
            raise InvalidInput.coded("imports.workbook_limits.part_holds_more_data", source=source, filename=info.filename, file_size=info.file_size)
        if scanner is not None:
            scanner.feed(chunk)
    if scanner is not None:
        scanner.close()
        if isinstance(scanner, _XmlScanner) and scanner.needs_exact_scan:
            exact = _XmlScanner(info.filename, exact=True)
            for chunk in _inflate(raw, info, source):
                exact.feed(chunk)
            exact.close()
    return unzipped + size


def _part_kind(name: str, head: bytes, binary_sheets: set[str]) -> str:
    if name.lower() in binary_sheets:
        return "xlsb-sheet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        return "utf-16"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return "xml" if text.startswith(b"<") else "binary"


def _inflate(raw: BinaryIO, info: zipfile.ZipInfo, source: str) -> Iterator[bytes]:
    """The part's bytes as calamine's zip reader sees them — everything its compressed data inflates to,
    whatever size the header declares — in chunks of at most CHUNK_BYTES."""
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) != 30 or not header.startswith(ZIP_MAGIC):
        raise InvalidInput.coded("imports.workbook_limits.readable_excel_workbook_part", source=source, filename=info.filename)
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    raw.seek(info.header_offset + 30 + name_length + extra_length)
    left = info.compress_size
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    try:
        while left > 0 and (inflater is None or not inflater.eof):
            data = raw.read(min(left, CHUNK_BYTES))
            if not data:
                return
            left -= len(data)
            if inflater is None:
                yield data
                continue
            while True:
                # max_length: a megabyte of a bomb inflates to a gigabyte; never hold more than a chunk.
                out = inflater.decompress(data, CHUNK_BYTES)
                data = inflater.unconsumed_tail
                if out:
                    yield out
                if inflater.eof or (not data and len(out) < CHUNK_BYTES):
                    break
    except zlib.error as exc:
        raise InvalidInput.coded("imports.workbook_limits.readable_excel_workbook_part_4", source=source, filename=info.filename, exc=exc) from exc


def _read_part(archive: zipfile.ZipFile, name: str, limit: int = 16 << 20) -> bytes:
    """A small part's bytes (workbook.xml, relationships), or b'' when missing or too large to matter."""
    wanted = name.lower()
    for info in archive.infolist():
        if info.filename.lower() == wanted and info.file_size <= limit:
            try:
                return archive.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError):
                return b""
    return b""


_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")


def _attributes(text: bytes) -> dict[str, str]:
    return {key.decode("ascii", "replace"): html.unescape((double or single).decode("utf-8", "replace"))
            for key, double, single in _ATTRIBUTE.findall(text)}


def _part_path(target: str) -> str:
    """A relationship target as calamine resolves it to a part (lower case)."""
    target = target.removeprefix("/")
    return (target if target.startswith("xl/") else f"xl/{target}").lower()


def _relationships(archive: zipfile.ZipFile, rels: str) -> list[dict[str, str]]:
    return [_attributes(match.group(1)) for match in _RELATIONSHIP.finditer(_read_part(archive, rels))]


def _xlsb_sheet_parts(archive: zipfile.ZipFile) -> set[str]:
    """The parts an .xlsb workbook's relationships name as worksheets (lower case)."""
    return {_part_path(r.get("Target", "")) for r in _relationships(archive, "xl/_rels/workbook.bin.rels")
            if r.get("Type", "").endswith("/worksheet")}


def _sheet_label(archive: zipfile.ZipFile, part: str) -> str:
    """How a message names the sheet stored in `part`: by its name where workbook.xml gives it."""
    if part == "content.xml":
        return "sheet"  # an .ods table: the walker's message starts with the table's name
    if part.lower() == "xl/sharedstrings.xml":
        return f"the shared-string table ({part})"
    ids = {r.get("Id"): _part_path(r.get("Target", "")) for r in _relationships(archive, "xl/_rels/workbook.xml.rels")}
    for match in _SHEET.finditer(_read_part(archive, "xl/workbook.xml")):
        attributes = _attributes(match.group(1))
        rid = attributes.get("r:id") or next((v for k, v in attributes.items() if k.endswith(":id")), None)
        if ids.get(rid) == part.lower():
            return f"sheet '{attributes.get('name', '')}'"
    return f"part {part}"


# --- XML parts: DOCTYPE, cells of .xlsx sheets, shared strings, .ods tables -------------------------

_NAME_END = np.zeros(256, dtype=bool)
_NAME_END[[9, 10, 13, 32, ord(">"), ord("/")]] = True  # what ends an element name for calamine's XML reader
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 13, 32]] = True
_QUOTE = np.zeros(256, dtype=bool)
_QUOTE[[34, 39]] = True
_LETTER = np.zeros(256, dtype=bool)
_LETTER[[*range(65, 91), *range(97, 123)]] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True
# _POWERS[d][i]: the weight of the i-th of d digits (10^(d-1-i)), 0 past the last digit.
_POWERS = np.array([[10 ** (d - 1 - i) if i < d else 0 for i in range(7)] for d in range(8)], dtype=np.int32)
_PAD = b"\0" * 16
_DECLARATION = re.compile(rb"<!(?i:doctype|entity)")
_STRING_TABLE = re.compile(rb"<(?:[^\s/>!?<]*:)?sst(?=[\s/>])")
_UNIQUE_COUNT = re.compile(rb"""\suniqueCount\s*=\s*["']\s*([0-9]+)""")
_DECLARES = "declares XML entities (a DOCTYPE); spreadsheets never do, so it was not read"


class _XmlScanner:
    """Scans one XML part in chunks: refuses a DOCTYPE, finds the cells of a sheet, counts shared strings.

    The quick scan (NumPy over the bytes) covers sheets whose every <c> element carries its r="A1";
    anything else — cells without r, namespace prefixes, odd quoting — sets `needs_exact_scan`, and the
    part is then scanned again tag by tag, placing cells as calamine's reader does (`exact=True`).
    An .ods content.xml is always scanned tag by tag, for its repeated rows and columns.
    """

    def __init__(self, part: str, *, ods: bool = False, exact: bool = False):
        self.part = part
        # calamine reserves room for the uniqueCount that xl/sharedStrings.xml declares.
        self._declared_strings = part.lower() == "xl/sharedstrings.xml"
        self.needs_exact_scan = False
        self.extent = Extent()
        self.shared_strings = 0
        self._carry = b""
        self._walker: _SheetWalker | _OdsWalker | None = None
        if ods:
            self._walker = _OdsWalker(part)
        elif exact:
            self._walker = _SheetWalker(part)

    def feed(self, data: bytes) -> None:
        buffer = self._carry + data
        if self._walker is not None:
            cut = self._walker.feed(buffer, final=False)
        else:
            # Cut before an unfinished tag: the pieces scanned hold whole tags.
            last_open = buffer.rfind(b"<")
            cut = last_open if last_open > buffer.rfind(b">") else len(buffer)
        piece, self._carry = buffer[:cut], buffer[cut:]
        if len(self._carry) > MAX_TAG_BYTES:
            raise _Refused(self.part, f"is not well-formed XML (a tag longer than {MAX_TAG_BYTES >> 20} MiB)")
        if self._declared_strings:
            self._check_declared_strings(piece)
        self._scan(piece)

    def _check_declared_strings(self, piece: bytes) -> None:
        found = _STRING_TABLE.search(piece)
        if found is None:
            return
        self._declared_strings = False
        tail = _TAG_TAIL.match(piece, found.end())
        declared = _UNIQUE_COUNT.search(piece, found.end(), tail.end() if tail else len(piece))
        if declared is not None and len(declared.group(1)) <= 10 and int(declared.group(1)) > MAX_SHEET_CELLS:
            raise _Refused(self.part, f"declares {int(declared.group(1)):,} strings (uniqueCount), more than the "
                                      f"limit of {MAX_SHEET_CELLS:,}")

    def close(self) -> None:
        if self._walker is not None:
            self._walker.feed(self._carry, final=True)
        self._scan(self._carry)
        self._carry = b""
        if isinstance(self._walker, _SheetWalker):
            self.extent = self._walker.extent
        self.extent.check(self.part)
        if self.shared_strings > MAX_SHEET_CELLS:
            raise _Refused(self.part, f"holds more than {MAX_SHEET_CELLS:,} strings, the limit")

    def _scan(self, piece: bytes) -> None:
        if not piece:
            return
        if self._walker is not None:
            if _DECLARATION.search(piece):
                raise _Refused(self.part, _DECLARES)
            return
        a = np.frombuffer(piece + _PAD, dtype=np.uint8)
        n = len(piece)
        opens = np.flatnonzero(a[:n] == 60)  # <
        after = a[opens + 1]
        bangs = opens[after == 33]  # <! : comments, CDATA, declarations
        candidates = bangs[np.isin(a[bangs + 2] | 32, (100, 101))]  # <!d… <!e…
        if any(_DECLARATION.match(piece, int(p)) for p in candidates):
            raise _Refused(self.part, _DECLARES)
        if self.needs_exact_scan:
            return
        self.shared_strings += int(np.count_nonzero((after == 115) & (a[opens + 2] == 105) & _NAME_END[a[opens + 3]]))
        colons = np.flatnonzero(a[:n] == 58)  # a prefixed <x:c> or <x:si> needs the exact scan
        if np.any(((a[colons + 1] == 99) & _NAME_END[a[colons + 2]])
                  | ((a[colons + 1] == 115) & (a[colons + 2] == 105) & _NAME_END[a[colons + 3]])):
            self.needs_exact_scan = True
            return
        is_cell = (after == 99) & _NAME_END[a[opens + 2]]
        if not is_cell.any():
            return
        located = _located_cells(a, opens, is_cell)
        if located is None:
            self.needs_exact_scan = True
            return
        rows, columns, filled = located
        if filled.any():
            self.extent.add(int(rows[filled].max()), int(columns[filled].max()), int(np.count_nonzero(filled)))
        self.extent.check(self.part)


def _located_cells(
    a: NDArray[np.uint8], opens: NDArray[np.intp], is_cell: NDArray[np.bool_]
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.bool_]] | None:
    """(row, column, holds something) of every <c> element in `a`, 1-based, from its r="A1" attribute;
    None when a cell has no such attribute, or two, or one that is not a plain reference."""
    closes = np.flatnonzero(a == 62)  # >
    equals = np.flatnonzero(a == 61)
    equals = equals[equals >= 2]
    attributes = equals[(a[equals - 1] == 114) & _SPACE[a[equals - 2]] & _QUOTE[a[equals + 1]]]  # r=" or r='
    tag = np.searchsorted(opens, attributes) - 1
    attributes, tag = attributes[tag >= 0], tag[tag >= 0]
    starts = opens[tag]
    following = np.searchsorted(closes, attributes)  # the first > after the attribute ends its tag
    in_tag = np.where(following > 0, closes[np.maximum(following - 1, 0)], -1) < starts  # not text after a tag
    keep = is_cell[tag] & in_tag
    attributes, starts, following = attributes[keep], starts[keep], following[keep]
    if attributes.size != np.count_nonzero(is_cell) or np.any(np.diff(starts) == 0):
        return None
    window = np.lib.stride_tricks.sliding_window_view(a, 12)[attributes + 2]  # the reference and what follows
    letters = np.argmin(_LETTER[window[:, :4]], axis=1)  # 1 to 3 letters, then 1 to 7 digits and the quote
    numerals = np.take_along_axis(window, letters[:, None] + np.arange(8), axis=1)
    digits = np.argmin(_DIGIT[numerals], axis=1)
    if not np.all((letters >= 1) & (digits >= 1) & (numerals[np.arange(len(numerals)), digits] == a[attributes + 1])):
        return None
    rows = ((numerals[:, :7].astype(np.int32) - 48) * _POWERS[digits]).sum(axis=1, dtype=np.int32)
    value = (window[:, :3] & 0xDF).astype(np.int32) - 64
    columns = np.where(letters == 1, value[:, 0],
                       np.where(letters == 2, value[:, 0] * 26 + value[:, 1], (value[:, 0] * 26 + value[:, 1]) * 26 + value[:, 2]))
    ends = closes[np.minimum(following, closes.size - 1)] if closes.size else starts
    filled = ~((ends > starts) & (a[np.maximum(ends - 1, 0)] == 47))  # <c r="A1" s="2"/> holds nothing
    return rows, columns, filled


_TAG_TAIL = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_REFERENCE = re.compile(rb"([A-Za-z]*)([0-9]*)")
# One XML token after any text, as calamine's XML reader (quick-xml) cuts them: comments, CDATA and
# processing instructions are skipped whole, a start tag runs to the first > outside quotes, and a
# < that begins nothing complete (cut off at the end of a piece, or broken) stands alone.
_TOKEN = re.compile(rb"""[^<]*(?:
      <!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!(?!--|\[CDATA\[)[^>]*>
    | <(?P<close>/?)(?:[^\s/>!?<]*:)?(?P<name>[^\s/>!?<:]+)(?P<attributes>(?:[^>"']|"[^"]*"|'[^']*')*)>
    | (?P<open><)
    )""", re.DOTALL | re.VERBOSE)


class _Walker:
    """Walks the elements of an XML part fed in pieces, calling `tag` for those named in `NAMES`
    (by local name: calamine ignores namespace prefixes). Tokens are cut as calamine's reader cuts
    them, so that nothing in a comment, CDATA section or attribute value passes for an element."""

    NAMES: frozenset[bytes]

    def __init__(self, part: str):
        self.part = part

    def feed(self, buffer: bytes, *, final: bool) -> int:
        """Walk `buffer`; return where its unfinished rest begins (len(buffer) when it has none)."""
        for token in _TOKEN.finditer(buffer):
            if token.group("open") is not None:
                if final:
                    break  # calamine's reader fails on it: what follows builds nothing
                start = token.start("open")
                if len(buffer) - start > MAX_TAG_BYTES:
                    raise _Refused(self.part, f"is not well-formed XML (an unfinished tag, comment or CDATA section "
                                              f"longer than {MAX_TAG_BYTES >> 20} MiB)")
                return start
            name = token.group("name")
            if name is not None and name in self.NAMES:
                self.tag(token.group("close") == b"/", name, token.group("attributes"))
        return len(buffer)

    def tag(self, closing: bool, name: bytes, attributes: bytes) -> None:
        raise NotImplementedError


class _SheetWalker(_Walker):
    """Cells of a sheet part as calamine's reader places them: at a cell's r="A1" when it has one,
    otherwise in the column after the previous cell, in the current row (a row's r="5", or the row
    after the previous one)."""

    NAMES = frozenset((b"c", b"row", b"si"))
    _POSITION = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")

    def __init__(self, part: str):
        super().__init__(part)
        self.extent = Extent()
        self.shared_strings = 0
        self.row = 1
        self.column = 1

    def tag(self, closing: bool, name: bytes, attributes: bytes) -> None:
        empty = attributes.rstrip().endswith(b"/")
        if name == b"si":
            self.shared_strings += not closing
            if self.shared_strings > MAX_SHEET_CELLS:
                raise _Refused(self.part, f"holds more than {MAX_SHEET_CELLS:,} strings, the limit")
            return
        positions = [] if closing else [_reference(self.part, d or s) for d, s in self._POSITION.findall(attributes)]
        if name == b"row":
            if positions:
                self.row = max(row for row, _ in positions)
            if closing or empty:
                self.row, self.column = self.row + 1, 1
        elif not closing:
            row = self.row
            if positions:
                row, self.column = max(r for r, _ in positions), max(c for _, c in positions)
            if not empty:
                self.extent.add(row, self.column)
                if self.extent.cells % 65536 == 0 or self.extent.last_row > MAX_ROWS or self.column > MAX_COLUMNS:
                    self.extent.check(self.part)
            self.column += 1
        if self.row > MAX_ROWS + 1 or self.column > MAX_COLUMNS + 1:
            raise _Refused(self.part, f"has more rows or columns than Excel's A1:XFD{MAX_ROWS}")


def _reference(part: str, text: bytes) -> tuple[int, int]:
    """(row, column), 1-based, of a cell reference such as A1 (or a row number such as 5)."""
    match = _REFERENCE.fullmatch(text.strip())
    if match is None or not match.group(2) or len(match.group(1)) > 3 or len(match.group(2).lstrip(b"0")) > 7:
        shown = text[:20].decode("utf-8", "replace")
        raise _Refused(part, f"has a cell at '{shown}', which is not a cell of Excel's A1:XFD{MAX_ROWS}")
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + letter - 64
    return int(match.group(2)), column


class _OdsWalker(_Walker):
    """Cells of every table in an .ods content.xml. Rows and cells repeated by number-rows-repeated /
    number-columns-repeated count as often as they are repeated, but only where they hold something:
    LibreOffice ends every sheet with a million empty repeated rows."""

    NAMES = frozenset((b"table", b"table-row", b"table-cell", b"covered-table-cell"))
    _REPEATED = re.compile(rb"""(?:^|\s)(?:[^\s=]*:)?number-(rows|columns)-repeated\s*=\s*["']\s*([0-9]+)\s*["']""")
    _VALUE = re.compile(rb"""(?:^|\s)(?:[^\s=]*:)?(?:value|value-type|[a-z]+-value)\s*=""")

    def __init__(self, part: str):
        super().__init__(part)
        self._tables: list[_OdsTable] = []

    def tag(self, closing: bool, name: bytes, attributes: bytes) -> None:
        empty = attributes.rstrip().endswith(b"/")
        if name == b"table":
            if not closing:
                found = _attributes(attributes)
                self._tables.append(_OdsTable(next((v for k, v in found.items() if k.endswith("name")), "")))
            if (closing or empty) and self._tables:
                self._tables.pop()
            return
        if not self._tables:
            return
        table = self._tables[-1]
        if name == b"table-row":
            if not closing:
                table.start_row(self._repeat(attributes, b"rows"))
            if closing or empty:
                table.end_row(self.part)
        elif not closing:
            table.cell(self._repeat(attributes, b"columns"), not empty or bool(self._VALUE.search(attributes)), self.part)

    def _repeat(self, attributes: bytes, kind: bytes) -> int:
        for found, count in self._REPEATED.findall(attributes):
            if found == kind:
                return max(int(count), 1) if len(count) <= 12 else 10**12
        return 1


@dataclass
class _OdsTable:
    name: str
    extent: Extent = field(default_factory=Extent)
    row: int = 0  # rows above the current one
    repeat: int = 1  # times the current row is repeated
    column: int = 0  # columns left of the current cell
    last_column: int = 0  # the current row's last column holding something
    cells: int = 0  # the current row's cells holding something

    def start_row(self, repeat: int) -> None:
        self.repeat, self.column, self.last_column, self.cells = repeat, 0, 0, 0

    def cell(self, repeat: int, holds_something: bool, part: str) -> None:
        if holds_something:
            self.last_column = self.column + repeat
            self.cells += repeat
            if self.last_column > MAX_COLUMNS:
                self._check(part, self.row + 1, self.last_column, 0)
        self.column += repeat

    def end_row(self, part: str) -> None:
        if self.cells:
            self._check(part, self.row + self.repeat, self.last_column, self.cells * self.repeat)
        self.row += self.repeat
        self.start_row(1)

    def _check(self, part: str, row: int, column: int, cells: int) -> None:
        self.extent.add(row, column, cells)
        try:
            self.extent.check(part)
        except _Refused as refused:
            raise _Refused(part, f"'{self.name}' {refused.message}") from None


# --- .xlsb sheets ---------------------------------------------------------------------------------


class _XlsbSheetScanner:
    """Cells of an .xlsb sheet part, record by record ([MS-XLSB] 2.1.4: a varint type, a varint size)."""

    CELL_RECORDS = range(2, 12)  # BrtCellRk … BrtFmlaError; BrtCellBlank (1) holds nothing

    def __init__(self, part: str):
        self.part = part
        self.extent = Extent()
        self._row = 0
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        buffer = self._buffer + data
        position, size = 0, len(buffer)
        while True:
            record = _xlsb_record(buffer, position)
            if record is None:
                break
            kind, start, length = record
            if start + length > size:
                if length > MAX_TAG_BYTES:
                    raise _Refused(self.part, f"holds a record of {length:,} bytes; not a readable sheet")
                break
            if kind == 0 and length >= 4:  # BrtRowHdr
                self._row = int.from_bytes(buffer[start:start + 4], "little") + 1
                if self._row > MAX_ROWS:
                    self.extent.add(self._row, 1, 0)
                    self.extent.check(self.part)
            elif kind in self.CELL_RECORDS and length >= 4:
                self.extent.add(self._row, int.from_bytes(buffer[start:start + 4], "little") + 1)
                if self.extent.cells % 65536 == 0 or self.extent.last_column > MAX_COLUMNS:
                    self.extent.check(self.part)
            position = start + length
        self._buffer = buffer[position:]

    def close(self) -> None:
        self.extent.check(self.part)


def _xlsb_record(buffer: bytes, position: int) -> tuple[int, int, int] | None:
    """(type, start of data, length) of the record at `position`, or None when its header is incomplete."""
    size = len(buffer)
    if position >= size:
        return None
    kind = buffer[position]
    position += 1
    if kind & 0x80:
        if position >= size:
            return None
        kind = (kind & 0x7F) | ((buffer[position] & 0x7F) << 7)
        position += 1
    length = 0
    for shift in range(0, 28, 7):
        if position >= size:
            return None
        byte = buffer[position]
        position += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
    return kind, position, length


# --- .xls (BIFF in an OLE compound file) -----------------------------------------------------------

_XLS_CELLS = {0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006}  # Number, Label, BoolErr, RK, LabelSst, Formula


def _check_xls(path: Path, source: str) -> None:
    size = path.stat().st_size
    if size > MAX_XLS_BYTES:
        raise InvalidInput.coded("imports.workbook_limits.mib_more_mib_xls", source=source, value=size / (1 << 20), value2=MAX_XLS_BYTES >> 20)
    stream = _ole_stream(path.read_bytes(), ("workbook", "book"))
    if stream is None:
        return  # not an OLE file we can follow: calamine decides, in its memory-limited process
    sheets = []
    for kind, data in _biff_records(stream, 0):
        if kind == 0x0085 and len(data) >= 8:  # BoundSheet8: where the sheet's records begin, and its name
            sheets.append((int.from_bytes(data[:4], "little"), _biff_sheet_name(data)))
        elif kind == 0x000A:  # EOF of the workbook globals
            break
    for offset, name in sheets:
        extent = Extent()
        try:
            for kind, data in _biff_records(stream, offset):
                if kind == 0x000A:
                    break
                if kind == 0x0200:
                    _check_xls_dimensions(data, name)
                elif kind in _XLS_CELLS and len(data) >= 4:
                    row, column = struct.unpack_from("<HH", data)
                    extent.add(row + 1, column + 1)
                elif kind == 0x00BD and len(data) >= 6:  # MulRk: several cells of one row
                    row, first = struct.unpack_from("<HH", data)
                    last = int.from_bytes(data[-2:], "little")
                    extent.add(row + 1, last + 1, max(last - first + 1, 0))
            extent.check(name)
        except _Refused as refused:
            raise InvalidInput.coded("imports.workbook_limits.sheet", source=source, name=name, message=refused.message) from None


def _check_xls_dimensions(data: bytes, sheet: str) -> None:
    """The DIMENSIONS record: calamine reserves room for rows × columns as declared, before any cell."""
    if len(data) == 14:
        first_row, last_row, first_column, last_column = struct.unpack_from("<IIHH", data)
    elif len(data) == 10:
        first_row, last_row, first_column, last_column = struct.unpack_from("<HHHH", data)
    else:
        return  # calamine refuses the record itself
    if last_row < 1 or last_column < 1:
        return  # calamine reads this as a single cell
    rows, columns = last_row - first_row, last_column - first_column
    declared = f"{column_name(first_column + 1)}{first_row + 1}:{column_name(last_column)}{last_row}"
    if rows < 0 or columns < 0 or last_row > MAX_ROWS or last_column > MAX_COLUMNS or rows * columns > MAX_SHEET_CELLS:
        raise _Refused(sheet, f"declares the range {declared} ({max(rows, 0) * max(columns, 0):,} cells), more than "
                              f"Excel's A1:XFD{MAX_ROWS} or the limit of {MAX_SHEET_CELLS:,} cells")


def _biff_records(stream: bytes, offset: int) -> Iterator[tuple[int, bytes]]:
    size = len(stream)
    while offset + 4 <= size:
        kind, length = struct.unpack_from("<HH", stream, offset)
        yield kind, stream[offset + 4:offset + 4 + length]
        offset += 4 + length


def _biff_sheet_name(data: bytes) -> str:
    length, flags = data[6], data[7] if len(data) > 7 else 0
    raw = data[8:]
    return (raw[:2 * length].decode("utf-16-le", "replace") if flags & 1 else raw[:length].decode("latin-1")).strip("\0")


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes | None:
    """The first stream named one of `names` (any case) in an OLE compound file ([MS-CFB] 2.2–2.6);
    None when the file cannot be followed."""
    if len(data) < 512 or not data.startswith(OLE_MAGIC):
        return None
    sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if sector_shift not in (9, 12) or mini_shift != 6:
        return None
    sector = 1 << sector_shift
    fat_count, first_directory, _, mini_cutoff, first_mini_fat, _, first_difat, difat_count = struct.unpack_from(
        "<8I", data, 0x2C)
    sectors = (len(data) - sector) // sector

    def at(number: int) -> bytes:
        return data[(number + 1) * sector:(number + 2) * sector]

    def chain(start: int, table: NDArray[np.uint32], limit: int) -> bytes:
        numbers: list[int] = []
        while start < min(limit, table.size) and len(numbers) <= limit:  # a loop in the chain ends here too
            numbers.append(start)
            start = int(table[start])
        return b"".join(at(number) for number in numbers)

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    difat, seen = first_difat, 0
    while difat < sectors and seen <= difat_count:
        values = struct.unpack(f"<{sector // 4}I", at(difat))
        fat_sectors.extend(values[:-1])
        difat, seen = values[-1], seen + 1
    fat = np.frombuffer(b"".join(at(s) for s in fat_sectors[:fat_count] if s < sectors), dtype="<u4")
    directory = chain(first_directory, fat, sectors)
    entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries:
        return None
    root_start, root_size = struct.unpack_from("<IQ", entries[0], 116)
    for entry in entries:
        name_length = min(struct.unpack_from("<H", entry, 64)[0], 64)
        if entry[66] != 2 or entry[:max(name_length - 2, 0)].decode("utf-16-le", "replace").lower() not in names:
            continue
        start, size = struct.unpack_from("<IQ", entry, 116)
        if sector_shift == 9:
            size &= 0xFFFFFFFF  # version 3 files leave the high half undefined
        if size >= mini_cutoff:
            return chain(start, fat, sectors)[:size]
        mini_fat = np.frombuffer(chain(first_mini_fat, fat, sectors), dtype="<u4")
        mini_stream = chain(root_start, fat, sectors)[:root_size]
        mini = len(mini_stream) // 64
        numbers: list[int] = []
        while start < min(mini, mini_fat.size) and len(numbers) <= mini:
            numbers.append(start)
            start = int(mini_fat[start])
        return b"".join(mini_stream[n * 64:(n + 1) * 64] for n in numbers)[:size]
    return None
