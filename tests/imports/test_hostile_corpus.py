"""The hostile corpus (issue 20's quality bar): several hundred generated files, each imported
through the `attain import` command line (in-process, for speed) into a seeded company, on SQLite
and PostgreSQL.

Every case either exits non-zero with a clear message — the one the case expects, after `error:`,
never a traceback — and leaves the database checksum unchanged, or exits 0 and stores the right
value, which the case reads back. Accepted cases write rows of their own (order H17, customer
HC17 …), so cases never depend on each other. The files are built here, from the lists below; the
hand-written broken files stay in tests/fixtures/broken (tests/imports/test_broken_files.py).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from attain.catalog.models import Customer, ProductNode
from attain.cli.main import main
from attain.db import get_engine, make_session_factory
from attain.facts.models import Opportunity, OrderLine
from tests.imports.seeded import checksum, seeded_database

NUL = "\x00"
LONG_CODE = "X" * 65
GROWING_CODE = "㍿" * 20  # 20 characters, 80 once NFKC-normalised


@dataclass(frozen=True)
class Case:
    """One file. `refusal`: text the command must print when it refuses the file; `stored`: for a
    file it accepts, (column, key column, key, value) read back afterwards."""

    name: str
    kind: str
    data: bytes
    refusal: str | None = None
    stored: tuple[Any, Any, str, object] | None = None
    args: tuple[str, ...] = ()
    suffix: str = ".csv"


CASES: list[Case] = []


def refuse(name: str, kind: str, text: str | bytes, refusal: str, *args: str, suffix: str = ".csv") -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    CASES.append(Case(name, kind, data, refusal=refusal, args=args, suffix=suffix))


def accept(name: str, kind: str, text: str, stored: tuple[Any, Any, str, object], *args: str) -> None:
    CASES.append(Case(name, kind, text.encode("utf-8"), stored=stored, args=args))


# --- orders: amounts ----------------------------------------------------------------------------

ORDER_HEADER = "行号,订单号,下单日期,销售员,客户,产品,数量,金额\n"


def order(n: int, *, amount: str = "100", day: str = "2026-03-01", rep: str = "R001", customer: str = "C001",
          product: str = "P1", quantity: str = "1", order_id: str | None = None) -> str:
    return ORDER_HEADER + ",".join([f"H{n}", order_id if order_id is not None else f"H{n}", day, rep, customer, product,
                                    quantity, amount]) + "\n"


SIGNS = "has more than one sign"
NOT_A_NUMBER = "is not a number"
TOO_LARGE = "too large an amount"
AMOUNTS_REFUSED = [
    ("--5", SIGNS), ("-¥-5", SIGNS), ("(-5)", SIGNS), ("(+5)", SIGNS), ("+-5", SIGNS), ("-+5", SIGNS),
    ("¥--5", SIGNS), ("-$-5", SIGNS), ("−−5", SIGNS), ("(−5)", SIGNS), ("- -5", SIGNS), ("RMB--5", SIGNS),
    ("abc", NOT_A_NUMBER), ("1.2.3", NOT_A_NUMBER), ("1,2,3", "misplaced thousands separators"),
    ("1.234,50", "misplaced thousands separators"), ("Infinity", NOT_A_NUMBER), ("-Infinity", NOT_A_NUMBER),
    ("inf", NOT_A_NUMBER), ("sNaN", NOT_A_NUMBER), ("1e400", TOO_LARGE), ("1E+30", TOO_LARGE), ("9" * 21, TOO_LARGE),
    ("-" + "9" * 21, TOO_LARGE), ("0x10", NOT_A_NUMBER), ("½", NOT_A_NUMBER), ("五", NOT_A_NUMBER), ("1万万", NOT_A_NUMBER),
    ("5-", NOT_A_NUMBER), ("¥(5)", NOT_A_NUMBER), ("(5", NOT_A_NUMBER), ("5)", NOT_A_NUMBER), ("1 2 3,4", "misplaced"),
    ("NULL", "amount is empty"), ("--", "amount is empty"), ("N/A", "amount is empty"), ("#N/A", "amount is empty"),
    ("1" + NUL + "2", "NUL character"), ("12e", NOT_A_NUMBER), ("e5", NOT_A_NUMBER), (".", NOT_A_NUMBER),
    ("%", NOT_A_NUMBER), ("万", NOT_A_NUMBER), ("¥", NOT_A_NUMBER), ("1\u200b00", NOT_A_NUMBER),
]
for i, (text, why) in enumerate(AMOUNTS_REFUSED):
    refuse(f"order-amount-refused-{i}", "orders", order(1000 + i, amount=f'"{text}"' if "," in text else text), why)

AMOUNTS_ACCEPTED = [
    ("-5", -500), ("(5)", -500), ("¥-5", -500), ("-¥5", -500), ("(¥5)", -500), ("+5", 500), ("−5", -500), ("－5", -500),
    ("(1,200.00)", -120000), ("1,234.50", 123450), ("¥1,234.5", 123450), ("1.2万", 1200000), ("12.3亿", 123000000000),
    ("0.005", 1), ("0.004", 0), ("-0.005", -1), ("１２３．４５", 12345), ("①", 100), ("2²", 2200), ("RMB 5", 500),
    ("5元", 500), ("-0", 0), ("1_000", 100000), ("5%", 5), ("1e3", 100000), ("100.", 10000), (".5", 50), ("١٢٣", 12300),
    ("9" * 15, 99999999999999900), ("  7  ", 700),
]
for i, (text, fen) in enumerate(AMOUNTS_ACCEPTED):
    n = 2000 + i
    accept(f"order-amount-accepted-{i}", "orders", order(n, amount=f'"{text}"' if "," in text else text),
           (OrderLine.amount, OrderLine.line_id, f"H{n}", fen))

# --- orders: dates -------------------------------------------------------------------------------

OUTSIDE = "is outside the years 1900–2100"
NOT_A_DATE = "is not a date"
DATES_REFUSED = [
    ("9999-12-31", OUTSIDE), ("0001-01-01", OUTSIDE), ("1899-12-31", OUTSIDE), ("2101-01-01", OUTSIDE),
    ("2999-06-30", OUTSIDE), ("1000-01-01 00:00:00", OUTSIDE), ("99999", OUTSIDE), ("2026-02-30", NOT_A_DATE),
    ("2026-13-01", NOT_A_DATE), ("2026-00-10", NOT_A_DATE), ("yesterday", NOT_A_DATE), 
    ("\u200b2026-01-05", NOT_A_DATE), ("2026/13/01", NOT_A_DATE), ("2958466", NOT_A_DATE), ("-1", NOT_A_DATE),
    ("2026-1-1-1", NOT_A_DATE), ("NULL", "order_date is empty"), ("2026-03-01" + NUL, "NUL character"),
    ("31/02/2026", NOT_A_DATE), ("2026年13月1日", NOT_A_DATE), ("1e5", NOT_A_DATE),
]
for i, (text, why) in enumerate(DATES_REFUSED):
    refuse(f"order-date-refused-{i}", "orders", order(3000 + i, day=text), why)

DATES_ACCEPTED = [
    ("２０２６－０３－０１", date(2026, 3, 1)), ("2026/3/1", date(2026, 3, 1)), ("20260301", date(2026, 3, 1)),
    ("2026年3月1日", date(2026, 3, 1)), ("2026-03-01 23:59:59", date(2026, 3, 1)), ("2026-03-01T08:00:00Z", date(2026, 3, 1)),
    ("46082", date(2026, 3, 1)), ("1900-01-01", date(1900, 1, 1)), ("2100-12-31", date(2100, 12, 31)),
    ("2024-02-29", date(2024, 2, 29)), ("2026.03.01", date(2026, 3, 1)),
    # A time after the date is ignored, even one that is no time of day.
    ("2026-01-01T25:00", date(2026, 1, 1)), ("2026-03-01 24:61", date(2026, 3, 1)),
]
for i, (text, day) in enumerate(DATES_ACCEPTED):
    n = 4000 + i
    accept(f"order-date-accepted-{i}", "orders", order(n, day=text), (OrderLine.order_date, OrderLine.line_id, f"H{n}", day))

# --- orders: codes and quantities -----------------------------------------------------------------

for field_name, column in (("rep", "销售员"), ("customer", "客户"), ("product", "产品")):
    for j, (text, why) in enumerate([
        (f"A{NUL}B", "contains a NUL character"), (LONG_CODE, "longer than 64 characters (65)"),
        (GROWING_CODE, "longer than 64 characters once normalised (80"),
    ]):
        refuse(f"order-{field_name}-refused-{j}", "orders", order(5000 + j, **{field_name: text}), f"{column}: {why}")
refuse("order-rep-is-region", "orders", order(5100, rep="华东"), "'华东' is a region, not a rep")
refuse("order-rep-is-team", "orders", order(5101, rep="华东/一组"), "'华东/一组' is a team, not a rep")
refuse("order-rep-is-company", "orders", order(5102, rep="COMPANY"), "'COMPANY' is a company, not a rep")
refuse("order-product-is-line", "orders", order(5103, product="民用"), "'民用' is a product line, not a product")
refuse("order-id-empty", "orders", order(5104, order_id="NULL"), "order_id is empty")
refuse("order-id-long", "orders", order(5105, order_id=LONG_CODE), "longer than 64 characters (65)")
refuse("order-quantity-words", "orders", order(5106, quantity="two"), "'two' is not a number")
refuse("order-quantity-huge", "orders", order(5107, quantity="1" + "0" * 20), "is too large")
refuse("order-quantity-signs", "orders", order(5108, quantity="--1"), SIGNS)
refuse("order-quantity-nul", "orders", order(5109, quantity="1" + NUL), "NUL character")
refuse("order-region-is-rep", "orders", ORDER_HEADER.replace("金额", "区域,金额") + "H5110,H5110,2026-03-01,R001,C001,P1,1,R002,1\n",
       "'R002' is a rep, not a region")
refuse("order-currency", "orders", "订单号,下单日期,金额,币种\nH5111,2026-03-01,1,RMBX\n", "'RMBX' is not a 3-letter currency code")
refuse("order-line-id-duplicate", "orders", ORDER_HEADER + "H5112,H5112,2026-03-01,R001,C001,P1,1,1\n" * 2,
       "duplicate line id 'H5112' (first on line 2)")
refuse("order-shipped-9999", "orders", "订单号,下单日期,发货日期,金额\nH5113,2026-03-01,9999-01-01,1\n", OUTSIDE)
for j, (field_name, text, column, value) in enumerate([
    ("customer", "😀", Customer.code, "😀"), ("customer", "=1+2", Customer.code, "=1+2"),
    ("customer", "<script>alert(1)</script>", Customer.code, "<script>alert(1)</script>"),
    ("customer", " HC1 ", Customer.code, "HC1"), ("customer", "ＨＣ２", Customer.code, "HC2"),
    ("product", "HP1\u202e", ProductNode.code, "HP1\u202e"), ("product", "@SUM(1)", ProductNode.code, "@SUM(1)"),
    ("customer", "H" * 64, Customer.code, "H" * 64),
]):
    accept(f"order-{field_name}-accepted-{j}", "orders", order(5200 + j, **{field_name: text}), (column, column, value, value))
for j, (text, quantity) in enumerate([("2", 2), ("-3", -3), ("1.5", 1.5), ("1,000", 1000), ("", 0), ("(2)", -2)]):
    n = 5300 + j
    accept(f"order-quantity-accepted-{j}", "orders", order(n, quantity=f'"{text}"' if "," in text else text),
           (OrderLine.quantity, OrderLine.line_id, f"H{n}", quantity))

# --- files that cannot be read ---------------------------------------------------------------------

noise = random.Random(20).randbytes
for name, data, why in [
    ("empty", b"", "the file is empty"), ("bom-only", b"\xef\xbb\xbf", "the file is empty"),
    ("blank-lines", b"\n \n\r\n\t\n", "the file is empty"), ("header-only", ORDER_HEADER.encode(), "no data rows under the header"),
    ("cp1252", "OrderNo,Order Date,Amount,Note\nSO1,2026-01-05,1,Café €5\n".encode("cp1252"),
     "unknown text encoding"),
    ("shift-jis", "受注番号,受注日,顧客名,金額\nH1,2026-03-01,株式会社サンプル,1000\n".encode("cp932"), "does not read cleanly as GBK"),
    ("utf16-truncated", ORDER_HEADER.encode("utf-16") + b"\x31", "is not valid utf-16"),
    ("utf8-bom-bad-byte", b"\xef\xbb\xbf" + ORDER_HEADER.encode() + b"H1,H1,2026-03-01,R001,C001,P1,1,\xff\n", "is not valid utf-8"),
    ("unclosed-quote", (ORDER_HEADER + 'H1,H1,2026-03-01,R001,"C001,P1,1,1\n').encode(), "is never closed"),
    ("huge-field", (ORDER_HEADER + 'H1,H1,2026-03-01,R001,"' + "x" * 100_001 + '",P1,1,1\n').encode(), "longer than 100,000"),
    ("extra-fields", (ORDER_HEADER + "H1,H1,2026-03-01,R001,C001,P1,1,1,9,9\n").encode(), "fields but the header has 8"),
    ("no-amount-column", "订单号,下单日期,客户\nH1,2026-03-01,C001\n".encode(), "no amount column"),
    ("no-date-column", "订单号,客户,金额\nH1,C001,1\n".encode(), "missing column for order_date"),
    ("binary-noise", noise(3000), "unknown text encoding"),
    ("nul-header", ("订单号,下单日期,金\x00额\nH1,2026-03-01,1\n").encode(), "no amount column"),
    ("only-commas", b",,,,\n,,,\n", "no data rows under the header"),
]:
    refuse(f"file-{name}", "orders", data, why)
for name, data in [("xlsx-noise", noise(2048)), ("xlsx-empty", b""), ("xlsx-text", ORDER_HEADER.encode()),
                   ("xlsx-zip-of-nothing", b"PK\x05\x06" + b"\x00" * 18)]:
    refuse(f"file-{name}", "orders", data, "not a readable Excel workbook", suffix=".xlsx")
refuse("file-xls-noise", "orders", noise(1024), "not a readable Excel workbook", suffix=".xls")
refuse("file-ods-noise", "orders", noise(1024), "not a readable Excel workbook", suffix=".ods")
refuse("option-unknown-map", "orders", order(6000), "'discount' is not a field of orders", "--map", "discount=金额")
refuse("option-missing-map-column", "orders", order(6001), "the file has no column 'Revenue'", "--map", "amount=Revenue")
refuse("option-sheet-on-csv", "orders", order(6002), "--sheet applies to Excel files only", "--sheet", "x")
refuse("option-bad-key", "orders", order(6003), "--key 'phone' is not one of", "--key", "phone")
refuse("option-bad-date-format", "orders", order(6004), "is not a date (expected %d/%m/%Y)", "--date-format", "%d/%m/%Y")
refuse("option-key-name-unknown", "orders", order(6005, customer="nobody"), "no customer with name 'nobody'", "--key", "name")
accept("file-tab-separated", "orders", order(6100).replace(",", "\t"), (OrderLine.amount, OrderLine.line_id, "H6100", 10000))
accept("file-semicolons", "orders", order(6101).replace(",", ";"), (OrderLine.amount, OrderLine.line_id, "H6101", 10000))
accept("file-crlf", "orders", order(6102).replace("\n", "\r\n"), (OrderLine.amount, OrderLine.line_id, "H6102", 10000))
accept("file-title-rows", "orders", "2026年3月销售明细\n\n" + order(6103), (OrderLine.amount, OrderLine.line_id, "H6103", 10000))
accept("file-wan-header", "orders", order(6104, amount="1.5").replace("金额", "金额(万元)"),
       (OrderLine.amount, OrderLine.line_id, "H6104", 1500000))

# --- other kinds -------------------------------------------------------------------------------------

KIND_ROWS: list[tuple[str, str, str, str]] = [
    # customers
    ("customers", "客户编号,客户名称,客户等级\nHC1,甲,D\n", "grade 'D' is not one of A, B, C", ""),
    ("customers", "客户编号,客户名称,客户类型\nHC1,甲,VIP\n", "'VIP' is not a customer type", ""),
    ("customers", f"客户编号,客户名称,细分\nHC1,甲,{'x' * 101}\n", "longer than 100 characters (101)", ""),
    ("customers", f"客户编号,客户名称,行业\nHC1,甲,{'x' * 101}\n", "longer than 100 characters (101)", ""),
    ("customers", f"客户编号,客户名称,城市\nHC1,甲,{'x' * 101}\n", "longer than 100 characters (101)", ""),
    ("customers", f"客户编号,客户名称\nHC1,{'甲' * 201}\n", "longer than 200 characters (201)", ""),
    ("customers", f"客户编号,客户名称\nHC1,甲{NUL}\n", "NUL character", ""),
    ("customers", f"客户编号,客户名称\n{LONG_CODE},甲\n", "longer than 64 characters (65)", ""),
    ("customers", "客户编号,客户名称,负责人\nHC1,甲,华南\n", "'华南' is a region, not a rep", ""),
    ("customers", "客户编号,客户名称,负责人\nHC1,甲,R404\n", "no rep with code or name 'R404'", ""),
    ("customers", "客户编号,客户名称,区域\nHC1,甲,R003\n", "'R003' is a rep, not a region", ""),
    ("customers", "客户编号,客户名称,首单日期\nHC1,甲,9999-01-01\n", OUTSIDE, ""),
    ("customers", "客户编号,客户名称\nHC1,甲\nHC1,乙\n", "duplicate customer code 'HC1' (first on line 2)", ""),
    ("customers", "客户编号,客户名称,外部编号\nHC1,甲,E1\nHC2,乙,E1\n", "duplicate customer external id 'E1'", ""),
    # reps
    ("reps", "工号,姓名,区域\nHR1,甲,R004\n", "'R004' is a rep, not a region", ""),
    ("reps", "工号,姓名,团队\nHR1,甲,R004\n", "'R004' is a rep, not a team", ""),
    ("reps", "工号,姓名\n华南,甲\n", "'华南' is a region, not a rep", ""),
    ("reps", "工号,姓名\n华南/二组,甲\n", "'华南/二组' is a team, not a rep", ""),
    ("reps", "工号,姓名,经理\nHR1,甲,R404\n", "manager 'R404' is neither in this file nor in Attain", ""),
    ("reps", "工号,姓名,经理\nHR1,甲,华南\n", "'华南' is a region, not a rep", ""),
    ("reps", "工号,姓名,入职日期,离职日期\nHR1,甲,2026-03-01,2026-01-01\n", "leaves on 2026-01-01 before starting on 2026-03-01", ""),
    ("reps", "工号,姓名,入职日期\nHR1,甲,9999-03-01\n", OUTSIDE, ""),
    ("reps", f"工号,姓名,职位\nHR1,甲,{'x' * 101}\n", "longer than 100 characters (101)", ""),
    ("reps", f"工号,姓名,邮箱\nHR1,甲,{'x' * 201}\n", "longer than 200 characters (201)", ""),
    ("reps", f"工号,姓名,团队,区域\nHR1,甲,{'队' * 40},{'区' * 40}\n", "(region/team) is 81 characters long", ""),
    ("reps", f"工号,姓名\nHR1,{NUL}\n", "NUL character", ""),
    ("reps", "工号,姓名,区域\nHR1,甲,HR2\nHR2,乙,华南\n", "'HR2' is a rep in this file, not a region", ""),
    # products
    ("products", "产品编号,产品名称,产品线\nHP1,甲,P2\n", "'P2' is a product, not a product line", ""),
    ("products", "产品编号,产品名称,产品线\n民用,甲,工业\n", "'民用' is a product line, not a product", ""),
    ("products", "产品编号,产品名称,产品线\nHP1,甲,HP2\nHP2,乙,工业\n", "'HP2' is a product in this file, not a product line", ""),
    ("products", "产品编号,产品名称,产品线,大类\nHP1,甲,HL1,HL1\n", "'HL1' cannot be its own category", ""),
    ("products", "产品编号,产品名称,产品线,大类\nHP1,甲,工业,P3\n", "'P3' is a product, not a product line", ""),
    ("products", "产品编号,产品名称,上市日期\nHP1,甲,0001-01-01\n", OUTSIDE, ""),
    ("products", f"产品编号,产品名称\nHP1,{'甲' * 201}\n", "longer than 200 characters (201)", ""),
    ("products", f"产品编号,产品名称,产品线\nHP1,甲,{'线' * 65}\n", "longer than 64 characters (65)", ""),
    # regions
    ("regions", "区域编号,区域名称,上级区域\nHG1,甲,R001\n", "'R001' is a rep, not a region or a company", ""),
    ("regions", "区域编号,区域名称,上级区域\nHG1,甲,华东/一组\n", "'华东/一组' is a team, not a region or a company", ""),
    ("regions", "区域编号,区域名称\nR002,甲\n", "'R002' is a rep, not a region", ""),
    ("regions", "区域编号,区域名称,区域经理\nHG1,甲,华东\n", "'华东' is a region, not a rep", ""),
    ("regions", "区域编号,区域名称,上级区域\nHG1,甲,HG1\n", "'HG1' cannot be its own parent", ""),
    ("regions", f"区域名称\n{'区' * 65}\n", "too long for a region code (at most 64)", ""),
    ("regions", f"区域编号,区域名称,区域经理\nHG1,甲,{'人' * 65}\n", "too long to become a rep's code", ""),
    ("regions", "区域编号,区域名称,上级区域\n" + "".join(f"HG{i},组{i},{f'HG{i - 1}' if i else ''}\n" for i in range(300)),
     "levels deep, its path of ids", ""),
    # opportunities
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期,成交日期\nHO1,R001,1,赢单,2026-03-01,2026-02-01\n",
     "closed on 2026-02-01 before it was created on 2026-03-01", ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期,确认日期\nHO1,R001,1,合格,2026-03-01,2026-02-01\n",
     "qualified on 2026-02-01 before it was created on 2026-03-01", ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期\nHO1,R001,1,maybe,2026-03-01\n", "'maybe' is not a stage", ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期\nHO1,R001,-1,线索,2026-03-01\n", "cannot be worth a negative amount", ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期\nHO1,R001,--1,线索,2026-03-01\n", SIGNS, ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期\nHO1,华南,1,线索,2026-03-01\n", "'华南' is a region, not a rep", ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期\nHO1,R001,1,线索,9999-03-01\n", OUTSIDE, ""),
    ("opportunities", f"商机编号,销售员,预计金额,阶段,创建日期,来源\nHO1,R001,1,线索,2026-03-01,{'x' * 65}\n",
     "longer than 64 characters (65)", ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期,成交日期\nHO1,R001,1,赢单,2026-03-01,\n",
     "a won opportunity needs a close date", ""),
    ("opportunities", "商机编号,销售员,预计金额,阶段,创建日期\nHO1,R404,1,线索,2026-03-01\n", "no rep with code or name 'R404'", ""),
    # activities
    ("activities", "活动类型,拜访日期,销售员\n跳舞,2026-03-01,R001\n", "'跳舞' is not an activity type", ""),
    ("activities", "活动类型,拜访日期,销售员\n拜访,9999-03-01,R001\n", OUTSIDE, ""),
    ("activities", "活动类型,拜访日期,销售员\n拜访,2026-03-01,华东/一组\n", "'华东/一组' is a team, not a rep", ""),
    ("activities", "活动类型,拜访日期,销售员,客户\n拜访,2026-03-01,R001,C404\n", "no customer with code or name 'C404'", ""),
    ("activities", f"活动类型,拜访日期,销售员,拜访内容\n拜访,2026-03-01,R001,{'x' * 10_001}\n", "longer than 10000 characters", ""),
    ("activities", f"活动类型,拜访日期,销售员,拜访内容\n拜访,2026-03-01,R001,a{NUL}b\n", "NUL character", ""),
    # credits
    ("credits", "订单号,销售员,比例\nSO1,华南,100\n", "'华南' is a region, not a rep", ""),
    ("credits", "订单号,销售员,比例\nSO1,R001,Infinity\n", "'Infinity' is not a percentage", ""),
    ("credits", "订单号,销售员,比例\nSO1,R001,0\n", "must be above 0 and at most 100", ""),
    ("credits", "订单号,销售员,比例\nSO1,R001,101\n", "must be above 0 and at most 100", ""),
    ("credits", "订单号,销售员,比例\nSO1,R001,50.005\n", "has more than two decimals", ""),
    ("credits", "订单号,销售员,比例\nSO1,R001,--5\n", "is not a percentage", ""),
    ("credits", "订单号,销售员,比例\nSO404,R001,100\n", "no order 'SO404' in the order lines", ""),
    ("credits", "订单号,销售员,比例\nSO1,R001,60\nSO1,R002,30\n", "direct shares sum to 90 %", ""),
    ("credits", "订单号,销售团队\nSO1,张三:50;一组:50\n", "'一组' is a team, not a rep", ""),
    ("credits", "订单号,行号,销售员\nSO1,L404,R001\n", "order 'SO1' has no line 'L404'", ""),
    # returns
    ("returns", "订单号,退货日期\nSO2,2026-01-15\n", "returned on 2026-01-15, before order SO2 was sold on 2026-02-01", ""),
    ("returns", "订单号,退货日期\nSO404,2026-03-01\n", "no order 'SO404' in the order lines", ""),
    ("returns", "订单号,退货日期\nSO1,9999-03-01\n", OUTSIDE, ""),
    ("returns", "订单号,退货日期\nSO1,soon\n", "'soon' is not a date", ""),
    ("returns", f"订单号,退货日期,原因\nSO1,2026-03-01,a{NUL}b\n", "NUL character", ""),
    # territories
    ("territories", "销售员,区域\nR001,R002\n", "'R002' is a rep, not a region", ""),
    ("territories", "销售员,区域\n华东,华南\n", "'华东' is a region, not a rep", ""),
    ("territories", "销售员,区域,开始日期,结束日期\nR001,华南,2026-03-01,2026-01-01\n", "ends on 2026-01-01 before it starts", ""),
    ("territories", "销售员,区域\nR404,华南\n", "no rep with code, external id or name 'R404'", ""),
    ("territories", "销售员,区域,开始日期\nR001,华南,9999-01-01\n", OUTSIDE, ""),
]
for i, (kind, text, why, _note) in enumerate(KIND_ROWS):
    refuse(f"{kind}-refused-{i}", kind, text, why)

TARGETS_REFUSED = [
    ("R001,2031-12,10", "2031-12 is outside plan FY2027"), ("R001,2026-12,10", "2026-12 is outside plan FY2027"),
    ("R001,9999,10", "outside the supported years"), ("R001,1899-12,10", "outside the supported years"),
    ("R001,2027-13,10", "'2027-13' is not a valid period"), ("R001,soon,10", "'soon' is not a period"),
    ("R001,2027-03,-5", "target -5 is negative"), ("R001,2027-03,--5", SIGNS), ("R001,2027-03,(-5)", SIGNS),
    ("R001,2027-03,abc", NOT_A_NUMBER), ("R001,2027-03,1e400", TOO_LARGE), ("R404,2027-03,10", "no rep or org node"),
    ("R001,2027-03,10\nR001,2027-03,20", "a second target for R001 in 2027-03"), (f"R001,2027-03,1{NUL}", "NUL"),
]
for i, (rows, why) in enumerate(TARGETS_REFUSED):
    refuse(f"targets-refused-{i}", "targets", "销售员,期间,目标\n" + rows + "\n", why, "--plan", "FY2027")
refuse("targets-owner-region", "targets", "销售员,期间,目标,负责人\nR001,2027-03,10,华东\n", "'华东' is a region, not a rep",
       "--plan", "FY2027")
refuse("targets-year-9999", "targets", "销售员,年份,M01\nR001,9999,10\n", "9999 is outside the years 1900–2100", "--plan", "FY2027")
refuse("targets-year-0", "targets", "销售员,年份,M01\nR001,0,10\n", "0 is outside the years 1900–2100", "--plan", "FY2027")
refuse("targets-no-plan", "targets", "销售员,期间,目标\nR001,2027-03,10\n", "importing targets needs --plan NAME")
refuse("targets-unknown-metric", "targets", "销售员,期间,目标\nR001,2027-03,10\n", "no metric 'bananas'",
       "--plan", "FY2027", "--metric", "bananas")
for i, text in enumerate(["10", "1.5万", "１２"]):  # into a plan of their own, created by the first
    CASES.append(Case(f"targets-accepted-{i}", "targets", f"销售员,期间,目标\nR003,2027-0{3 + i},{text}\n".encode(),
                      args=("--plan", "HT2027")))

OPPORTUNITY_AMOUNTS = [("(5)", None), ("1.5万", 1500000), ("１２", 1200), ("0.005", 1)]
for i, (text, fen) in enumerate(OPPORTUNITY_AMOUNTS):
    code = f"HO{100 + i}"
    body = f"商机编号,销售员,预计金额,阶段,创建日期\n{code},R001,{text},线索,2026-03-01\n"
    if fen is None:
        refuse(f"opportunity-amount-refused-{i}", "opportunities", body, "cannot be worth a negative amount")
    else:
        accept(f"opportunity-amount-accepted-{i}", "opportunities", body, (Opportunity.amount, Opportunity.code, code, fen))


# --- running the corpus -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def company(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_database(request.param, tmp_path_factory.mktemp("corpus")) as url:
        yield url


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """`attain …` in this process (as the console script runs it); (exit status, stdout + stderr)."""
    monkeypatch.setattr(sys, "argv", ["attain", *argv])
    capsys.readouterr()
    try:
        main()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def read_back(url: str, column: Any, key_column: Any, key: str) -> object:
    session = make_session_factory(get_engine(url))()
    try:
        return session.scalar(select(column).where(key_column == key))
    finally:
        session.close()


def test_corpus_has_at_least_256_cases_with_unique_names() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 256
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_file(case: Case, company: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / f"{case.name}{case.suffix}"
    path.write_bytes(case.data)
    before = checksum(company)

    status, output = run_cli(["import", case.kind, str(path), "--db", company, *case.args], capsys, monkeypatch)

    assert "Traceback" not in output
    if case.refusal is not None:
        assert status == 1, output
        assert output.lstrip().startswith("error: "), output
        assert case.refusal in output, output
        assert checksum(company) == before
        return
    assert status == 0, output
    if case.stored is not None:
        column, key_column, key, value = case.stored
        stored = read_back(company, column, key_column, key)
        assert stored == value, (stored, value)
