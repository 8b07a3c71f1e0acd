"""Spreadsheet limits (attain.imports.workbook_limits) and the memory-limited reader (excel_worker).

No database: files are built here (or by tests/fixtures/broken/make_corpus.py) and measured. The
property test checks the promise the limits rest on: the cells a sheet is measured to reach are never
fewer than python-calamine itself builds — whatever the XML's quirks, and however it is cut in pieces.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineError, CalamineWorkbook

from attain.errors import InvalidInput
from attain.imports import excel_worker, workbook_limits
from attain.imports.reading import column_name, read_workbook
from attain.imports.workbook_limits import MAX_SHEET_CELLS, Extent, check_workbook
from tests.fixtures.broken.make_corpus import (
    HEADER_ROW,
    MAIN,
    SHARED_STRINGS,
    ods_content,
    raw_ods,
    raw_xlsx,
    sheet_xml,
    xls_bytes,
)

BROKEN = Path(__file__).parents[1] / "fixtures" / "broken"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(InvalidInput) as caught:
        check_workbook(path)
    return str(caught.value)


# --- limits ---------------------------------------------------------------------------------------


def test_column_names_are_excels() -> None:
    assert [column_name(n) for n in (1, 26, 27, 52, 702, 703, 16384)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA", "XFD"]


def test_a_sheet_may_span_the_limit_but_not_one_cell_more() -> None:
    Extent(MAX_SHEET_CELLS, 1_000_000, 20).check("sheet")
    with pytest.raises(workbook_limits._Refused, match="reaches cell U1000000: A1:U1000000 is 1,000,000 rows × 21"):
        Extent(1, 1_000_000, 21).check("sheet")
    with pytest.raises(workbook_limits._Refused, match="beyond Excel's last cell XFD1048576"):
        Extent(1, 1_048_577, 1).check("sheet")
    with pytest.raises(workbook_limits._Refused, match="^holds 20,000,001 cells, more than the limit of 20,000,000$"):
        Extent(MAX_SHEET_CELLS + 1, 1, 1).check("sheet")  # the same cell, over and over


def test_a_far_cell_is_refused_naming_the_sheet_and_the_range(tmp_path: Path) -> None:
    path = write(tmp_path, "far.xlsx", raw_xlsx(sheet_xml(HEADER_ROW + b'<row r="2"><c r="AZ500000"><v>1</v></c></row>')))

    assert refusal(path) == ("far.xlsx: sheet '订单' reaches cell AZ500000: A1:AZ500000 is 500,000 rows × 52 columns = "
                             "26,000,000 cells, more than the limit of 20,000,000; delete what lies beyond the data, or "
                             "save the sheet as CSV")


def test_an_empty_styled_cell_far_away_is_not_a_cell(tmp_path: Path) -> None:
    # calamine leaves <c r="XFD1048576" s="1"/> out of the sheet: it holds nothing.
    path = write(tmp_path, "styled.xlsx", raw_xlsx(sheet_xml(HEADER_ROW + b'<row r="1048576"><c r="XFD1048576" s="1"/></row>')))

    check_workbook(path)
    assert read_workbook(path, sheets=None, as_text=True).rows["订单"] == [["订单号", "金额"]]


def test_a_declared_dimension_alone_is_harmless(tmp_path: Path) -> None:
    # calamine only reserves room for a <dimension> under 100,000 cells: the cells decide.
    path = write(tmp_path, "dimension.xlsx", raw_xlsx(sheet_xml(HEADER_ROW, dimension=b"A1:XFD1048576")))

    assert read_workbook(path, sheets=None, as_text=True).rows == {"订单": [["订单号", "金额"]]}


def test_a_cell_reference_beyond_excel_is_refused(tmp_path: Path) -> None:
    # calamine would wrap row 4,294,967,297 round to row 1 (a u32).
    path = write(tmp_path, "wrap.xlsx", raw_xlsx(sheet_xml(b'<row r="1"><c r="A4294967297"><v>1</v></c></row>')))

    assert refusal(path) == "wrap.xlsx: sheet '订单' has a cell at 'A4294967297', which is not a cell of Excel's A1:XFD1048576"


@pytest.mark.parametrize("cells", [
    b'<row r="1"><c r="A1"><v>1</v></c><c><v>2</v></c></row>' + b'<row r="1048576">' + b"<c><v>1</v></c>" * 21 + b"</row>",
    b'<row r="5"><x:c r="XFD6" xmlns:x="' + MAIN + b'"><x:v>1</x:v></x:c></row><row r="1048576"><c r="A1048576"><v>1</v></c></row>',
    b'<row r="1"><c r = "A1"><v>1</v></c><c r=\'XFD1048576\'><v>1</v></c></row>',
])
def test_cells_placed_without_a_plain_reference_are_found_too(tmp_path: Path, cells: bytes) -> None:
    path = write(tmp_path, "quirks.xlsx", raw_xlsx(sheet_xml(cells)))

    assert "more than the limit of 20,000,000" in refusal(path)


def test_billion_laughs_in_any_part_is_refused(tmp_path: Path) -> None:
    laughs = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    path = write(tmp_path, "laughs.xlsx", raw_xlsx(sheet_xml(HEADER_ROW), laughs + SHARED_STRINGS.split(b"?>", 1)[1]))

    assert refusal(path) == ("laughs.xlsx: the shared-string table (xl/sharedStrings.xml) declares XML entities (a "
                             "DOCTYPE); spreadsheets never do, so it was not read")


def test_text_that_reads_doctype_is_only_text(tmp_path: Path) -> None:
    path = write(tmp_path, "text.xlsx", raw_xlsx(sheet_xml(
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lt;!DOCTYPE x&gt; &lt;!ENTITY</t></is></c></row>')))

    assert read_workbook(path, sheets=None, as_text=True).rows["订单"] == [["<!DOCTYPE x> <!ENTITY"]]


def test_xml_in_utf16_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "utf16.xlsx", raw_xlsx(sheet_xml(HEADER_ROW).decode().encode("utf-16")))

    assert refusal(path) == ("utf16.xlsx: not a readable Excel workbook (part xl/worksheets/sheet1.xml is XML in UTF-16, "
                             "which spreadsheets do not use)")


def test_shared_strings_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_limits, "MAX_SHEET_CELLS", 3)
    many = SHARED_STRINGS.replace(b"</sst>", b"<si><t>a</t></si><si><t>b</t></si></sst>")
    prefixed = many.replace(b"<si>", b"<x:si>").replace(b"</si>", b"</x:si>").replace(b"<sst ", b'<sst xmlns:x="' + MAIN + b'" ')

    for strings in (many, prefixed):
        assert refusal(write(tmp_path, "strings.xlsx", raw_xlsx(sheet_xml(HEADER_ROW), strings))) == (
            "strings.xlsx: the shared-string table (xl/sharedStrings.xml) holds more than 3 strings, the limit")


# --- the zip ----------------------------------------------------------------------------------------


def zipped(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_part_may_compress_well_while_small(tmp_path: Path) -> None:
    path = write(tmp_path, "small.xlsx", zipped({"xl/styles.xml": b"<styleSheet>" + b" " * 1_000_000 + b"</styleSheet>"}))

    check_workbook(path)


def test_more_parts_or_bytes_than_a_workbook_holds_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_limits, "MAX_PARTS", 3)
    many = write(tmp_path, "many.xlsx", zipped({f"xl/media/{i}.bin": b"x" for i in range(4)}))
    assert refusal(many) == "many.xlsx: not a readable Excel workbook (it holds 4 parts; a spreadsheet has at most 3)"

    monkeypatch.setattr(workbook_limits, "MAX_UNZIPPED_BYTES", 1 << 20)
    big = write(tmp_path, "big.xlsx", zipped({"a.bin": bytes(600_000), "b.bin": bytes(600_000)}, zipfile.ZIP_STORED))
    assert refusal(big) == "big.xlsx: unzips to more than 1 MiB, the limit for a workbook; save the data as CSV or split it into smaller workbooks"


def test_unusual_zip_methods_and_encryption_are_refused(tmp_path: Path) -> None:
    lzma = write(tmp_path, "lzma.xlsx", zipped({"xl/workbook.xml": b"<workbook/>"}, zipfile.ZIP_LZMA))
    assert refusal(lzma) == ("lzma.xlsx: not a readable Excel workbook (part xl/workbook.xml uses zip compression method "
                             "14, which spreadsheets do not use)")

    data = bytearray(zipped({"xl/workbook.xml": b"<workbook/>"}))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1  # the "encrypted" flag
    assert refusal(write(tmp_path, "locked.xlsx", bytes(data))) == (
        "locked.xlsx: not a readable Excel workbook (part xl/workbook.xml is encrypted)")


# --- how the parts are read ------------------------------------------------------------------------

cell_positions = st.tuples(st.integers(1, 300), st.integers(1, 60))


@st.composite
def quirky_sheets(draw: st.DrawFn) -> bytes:
    """Sheet XML with what calamine accepts: rows and cells with or without r="…", prefixed elements,
    single quotes, spaces around '=', empty (self-closing) cells, comments and CDATA that look like cells."""
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row_number = draw(st.none() | st.integers(1, 300))
        cells = []
        for _ in range(draw(st.integers(0, 5))):
            prefix = draw(st.sampled_from([b"", b"x:"]))
            position = draw(st.none() | cell_positions)
            quote = draw(st.sampled_from([b'"', b"'"]))
            spaced = draw(st.booleans())
            attribute = b""
            if position is not None:
                reference = f"{column_name(position[1])}{position[0]}".encode()
                attribute = b" r" + (b" = " if spaced else b"=") + quote + reference + quote
            if draw(st.booleans()):
                cells.append(b"<" + prefix + b"c" + attribute + b' s="1"/>')
            else:
                cells.append(b"<" + prefix + b"c" + attribute + b' t="inlineStr"><' + prefix + b"is><" + prefix
                             + b"t>v</" + prefix + b"t></" + prefix + b"is></" + prefix + b"c>")
            if draw(st.integers(0, 9)) == 0:
                cells.append(b'<!-- <c r="B7"> --><![CDATA[<c r="C9">]]>')
        opening = b"<row" + (f' r="{row_number}"'.encode() if row_number else b"") + b">"
        rows.append(opening + b"".join(cells) + b"</row>")
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="' + MAIN + b'" xmlns:x="' + MAIN + b'">'
            b"<sheetData>" + b"".join(rows) + b"</sheetData></worksheet>")


def measured(xml: bytes, chunk: int) -> Extent:
    scanner = workbook_limits._XmlScanner("xl/worksheets/sheet1.xml")
    for start in range(0, len(xml), chunk):
        scanner.feed(xml[start:start + chunk])
    scanner.close()
    if scanner.needs_exact_scan:
        scanner = workbook_limits._XmlScanner("xl/worksheets/sheet1.xml", exact=True)
        for start in range(0, len(xml), chunk):
            scanner.feed(xml[start:start + chunk])
        scanner.close()
    return scanner.extent


@given(xml=quirky_sheets(), chunk=st.integers(1, 64))
def test_the_cells_measured_cover_what_calamine_builds(xml: bytes, chunk: int) -> None:
    extent = measured(xml, chunk)
    exact = workbook_limits._XmlScanner("xl/worksheets/sheet1.xml", exact=True)
    exact.feed(xml)
    exact.close()
    assert extent == exact.extent  # the quick scan, where it applies, agrees with the exact one; chunks change nothing
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(raw_xlsx(xml))).get_sheet_by_name("订单")
    except CalamineError:
        return  # calamine refuses it: nothing is built
    if sheet.end is not None:
        assert extent.last_row >= sheet.end[0] + 1 and extent.last_column >= sheet.end[1] + 1


def test_the_quick_scan_measures_a_plain_sheet() -> None:
    xml = sheet_xml(b"".join(b'<row r="%d"><c r="A%d" t="s"><v>0</v></c><c r="K%d"><v>2</v></c><c r="M%d" s="1"/></row>'
                             % (i, i, i, i) for i in range(1, 2001)))
    scanner = workbook_limits._XmlScanner("sheet")
    scanner.feed(xml)
    scanner.close()
    assert (scanner.needs_exact_scan, scanner.extent) == (False, Extent(4000, 2000, 11))


# --- .ods, .xls, .xlsb ------------------------------------------------------------------------------


def test_libreoffice_sheets_end_in_empty_repeated_rows_which_count_for_nothing(tmp_path: Path) -> None:
    cell = b'<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
    path = write(tmp_path, "lo.ods", raw_ods(ods_content(
        b"<table:table-row>" + cell + b'<table:table-cell table:number-columns-repeated="16383"/></table:table-row>'
        b'<table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/>'
        b"</table:table-row>")))

    assert read_workbook(path, sheets=None, as_text=True).rows == {"订单": [["x"]]}


def test_ods_repeated_values_count_as_often_as_repeated(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.ods", raw_ods(ods_content(
        b'<table:table-row table:number-rows-repeated="2000"><table:table-cell table:number-columns-repeated="10001" '
        b'office:value-type="float" office:value="1"/></table:table-row>')))

    assert refusal(path).startswith("wide.ods: sheet '订单' reaches cell NTQ2000: A1:NTQ2000 is 2,000 rows × 10,001 columns")


def test_xls_files_are_read_and_their_declared_dimensions_checked(tmp_path: Path) -> None:
    good = write(tmp_path, "good.xls", xls_bytes([(0, 0, "订单号"), (0, 1, "金额"), (1, 0, "SO1"), (1, 1, 100.5)]))
    assert read_workbook(good, sheets=None, as_text=True).rows == {"订单": [["订单号", "金额"], ["SO1", "100.5"]]}

    backwards = write(tmp_path, "backwards.xls", xls_bytes([(0, 0, "x")], dimensions=(5, 2, 0, 1)))
    assert refusal(backwards).startswith("backwards.xls: sheet '订单' declares the range A6:A2")

    far = write(tmp_path, "far.xls", xls_bytes([(0, 0, "x"), (65535, 255, 1)], dimensions=(0, 1, 0, 1)))
    check_workbook(far)  # 65,536 × 256 cells: all an .xls can hold, under the limit


def test_xls_larger_than_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_limits, "MAX_XLS_BYTES", 1 << 20)
    path = write(tmp_path, "big.xls", xls_bytes([(0, 0, "x")]) + bytes(2 << 20))

    assert refusal(path) == "big.xls: 2 MiB is more than the 1 MiB an .xls file may hold; save it as .xlsx or CSV"


def test_the_superstore_xls_passes(shared_data: Path) -> None:
    check_workbook(shared_data / "superstore" / "Sample - Superstore.xls")


def xlsb_records(*records: tuple[int, bytes]) -> bytes:
    out = b""
    for kind, data in records:
        out += bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
        out += bytes([len(data)])
        out += data
    return out


def test_xlsb_cells_are_located_from_their_records() -> None:
    def row(number: int) -> tuple[int, bytes]:  # BrtRowHdr
        return 0x00, number.to_bytes(4, "little") + bytes(8)

    def real(column: int) -> tuple[int, bytes]:  # BrtCellReal
        return 0x05, column.to_bytes(4, "little") + bytes(12)

    scanner = workbook_limits._XlsbSheetScanner("xl/worksheets/sheet1.bin")
    stream = xlsb_records((0x81, b""), row(0), real(0), real(3), row(9), real(1), (0x92, b""))
    for i in range(0, len(stream), 3):
        scanner.feed(stream[i:i + 3])
    scanner.close()
    assert scanner.extent == Extent(3, 10, 4)

    far = workbook_limits._XlsbSheetScanner("xl/worksheets/sheet1.bin")
    with pytest.raises(workbook_limits._Refused, match="beyond Excel's last cell"):
        far.feed(xlsb_records(row(0), real(0), row(1_048_575), real(4_000_000_000)))


# --- the reader in its child process ---------------------------------------------------------------


def test_rows_are_padded_to_a1_as_calamine_pads_them(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active["C3"], book.active["D3"], book.active["C4"], book.active["D6"] = "h1", "h2", 1.5, "x"
    book.save(tmp_path / "offset.xlsx")
    sheet = CalamineWorkbook.from_path(str(tmp_path / "offset.xlsx")).get_sheet_by_name("Sheet")

    padded = read_workbook(tmp_path / "offset.xlsx", sheets=["Sheet"])
    trimmed = read_workbook(tmp_path / "offset.xlsx", sheets=["Sheet", "missing"], trimmed=["Sheet"])

    assert padded.rows == {"Sheet": sheet.to_python(skip_empty_area=False)}
    assert trimmed.rows == {"Sheet": sheet.to_python(skip_empty_area=True)}
    assert padded.sheet_names == trimmed.sheet_names == ["Sheet"]


def test_rows_of_many_batches_arrive_whole_and_in_order(tmp_path: Path) -> None:
    count = 2 * excel_worker.BATCH_ROWS + 5
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>SO%d</t></is></c><c r="C%d"><v>%d.5</v></c></row>'
                    % (i, i, i, i, i) for i in range(1, count + 1))
    path = write(tmp_path, "long.xlsx", raw_xlsx(sheet_xml(rows)))

    read = read_workbook(path, sheets=None, as_text=True).rows["订单"]

    assert read == [[f"SO{i}", "", f"{i}.5"] for i in range(1, count + 1)]


def test_the_reader_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"^corrupt.xlsx: not a readable Excel workbook \("):
        read_workbook(BROKEN / "corrupt.xlsx", sheets=None)
    with pytest.raises(InvalidInput, match=f"^{tmp_path}/none.xlsx: no such file$"):
        read_workbook(tmp_path / "none.xlsx", sheets=None)


def test_a_reader_that_runs_out_of_memory_or_time_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(excel_worker.MEMORY_VARIABLE, "512")
    with pytest.raises(InvalidInput) as caught:  # past the limits, calamine asks for 512 GiB
        excel_worker.read_sheets(BROKEN / "orders_sparse_corners.xlsx", source="bomb.xlsx", sheets=None, max_cells=10**12)
    assert str(caught.value) == ("bomb.xlsx: the file could not be read: the reader ran out of memory (512 MB; "
                                 "ATTAIN_EXCEL_MEMORY_MB sets the limit)")

    monkeypatch.setattr(excel_worker, "TIMEOUT_SECONDS", 0.01)
    with pytest.raises(InvalidInput, match="^slow.xlsx: the file could not be read: the reader took longer than"):
        excel_worker.read_sheets(BROKEN / "orders_two_sheets.xlsx", source="slow.xlsx", sheets=None, max_cells=100)


def test_the_reader_checks_the_span_again(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="^bomb.xlsx: sheet 'Sheet' reaches cell XFD1048576: 1,048,576 rows × 16,384"):
        excel_worker.read_sheets(BROKEN / "orders_cell_at_xfd1048576.xlsx", source="bomb.xlsx", sheets=None,
                                 max_cells=MAX_SHEET_CELLS)


def test_the_memory_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(excel_worker.MEMORY_VARIABLE, "2048")
    assert excel_worker.memory_limit_bytes() == 2048 << 20
    monkeypatch.setenv(excel_worker.MEMORY_VARIABLE, "lots")
    with pytest.raises(InvalidInput, match="ATTAIN_EXCEL_MEMORY_MB='lots' is not a number of megabytes"):
        excel_worker.memory_limit_bytes()
    monkeypatch.delenv(excel_worker.MEMORY_VARIABLE)
    assert 64 << 20 <= excel_worker.memory_limit_bytes() <= excel_worker.DEFAULT_MEMORY_MB << 20
