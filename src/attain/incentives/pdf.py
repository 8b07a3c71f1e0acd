"""Incentive statements as PDF: one page (or more) per person, every line of the calculation, with
an embedded CJK font so that Chinese names and labels render on any reader.

fpdf2 is pure Python; it reads TrueType/OpenType fonts and font collections (.ttc, one face chosen
by name). The font is the first that exists of ATTAIN_CJK_FONT (a path, optionally `path#face`
e.g. `…/NotoSansCJK-Regular.ttc#Noto Sans CJK SC`) and the usual Debian/Ubuntu CJK fonts
(fonts-noto-cjk, fonts-wqy-microhei, fonts-arphic-uming); none found is a clear InvalidInput
naming what to install — a PDF without glyphs would be blank where the names are.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from attain.errors import InvalidInput

if TYPE_CHECKING:
    from attain.incentives.service import StatementSet

FONT_ENV = "ATTAIN_CJK_FONT"
# (path, face name in a collection or None): Simplified Chinese faces first.
CANDIDATES: tuple[tuple[str, str | None], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf", None),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", None),
)
COLUMNS = (("component", 24), ("line", 88), ("basis", 26), ("attain %", 15), ("rate %", 11), ("amount", 26))  # mm


def find_cjk_font() -> tuple[Path, int]:
    """(font file, face number in a collection) of the CJK font to embed; InvalidInput when none exists."""
    wanted = os.environ.get(FONT_ENV, "").strip()
    candidates: list[tuple[str, str | None]] = []
    if wanted:
        path, _sep, face = wanted.partition("#")
        candidates.append((path, face or None))
    else:
        candidates.extend(CANDIDATES)
    for path, face in candidates:
        if Path(path).is_file():
            return Path(path), _face_number(path, face)
    if wanted:
        raise InvalidInput.coded("statement.font_missing", font=wanted, env=FONT_ENV)
    raise InvalidInput.coded("statement.no_cjk_font", env=FONT_ENV)


@lru_cache(maxsize=8)
def _face_number(path: str, face: str | None) -> int:
    """The index of face `face` in a .ttc collection (0 for a single font or an unnamed face)."""
    if face is None or not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    try:
        for number, font in enumerate(collection.fonts):
            names = {str(record.toUnicode()) for record in font["name"].names if record.nameID in (1, 4)}
            if face in names:
                return number
    finally:
        collection.close()
    raise InvalidInput.coded("statement.font_face", font=path, face=face)


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


def write_statements_pdf(result: StatementSet, out: Path) -> None:
    """`result` as a PDF at `out`: a title, then for each person their lines and total (exact yuan)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    font, number = find_cjk_font()
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(10, 10, 10)
    pdf.add_font("cjk", fname=str(font), collection_font_number=number)
    pdf.set_title(f"{result.plan} {result.period}")
    pdf.set_creator("Attain")
    heading = f"{result.plan} v{result.version} · {result.period} · {result.status} · as of {result.as_of}"
    if not result.statements:
        pdf.add_page()
        pdf.set_font("cjk", size=13)
        pdf.cell(text=heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=10)
        pdf.cell(text="no statements / 无对账单")
    for statement in result.statements:
        pdf.add_page()
        pdf.set_font("cjk", size=9)
        pdf.cell(text=heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=14)
        pdf.cell(text=f"{statement.name} {statement.code} ({statement.role})", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=11)
        pdf.cell(text=f"total / 合计: {_yuan(statement.total)} 元 · earned this period / 本期所得 {_yuan(statement.earned)} 元"
                 f" · target incentive / 目标奖金 {_yuan(statement.target_incentive)} 元", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if statement.awards:
            pdf.cell(text=f"awards / 非现金奖励: {', '.join(statement.awards)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        pdf.set_font("cjk", size=7.5)
        with pdf.table(col_widths=tuple(width for _name, width in COLUMNS), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                       line_height=3.6, first_row_as_headings=True,
                       headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235))) as table:
            table.row([name for name, _width in COLUMNS])
            for line in statement.lines:
                basis, amount, step = line.get("basis"), line.get("amount"), line.get("step")
                if step == "total":
                    table.row(["", str(line.get("label") or ""), "", "", "", _yuan(int(basis))])  # type: ignore[call-overload]
                    continue
                table.row([
                    str(line.get("component") or ""), str(line.get("label") or ""),
                    "" if basis is None else (str(basis) if step == "spif" else _yuan(int(basis))),  # type: ignore[call-overload]
                    str(line.get("attainment") or ""), str(line.get("rate") or ""),
                    "" if amount is None else _yuan(int(amount)),  # type: ignore[call-overload]
                ])
    pdf.output(str(out))
