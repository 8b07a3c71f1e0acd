"""What each import kind reads, and the column names (Chinese and English) that mean each field.

Pure data plus the matching of a file's header to fields; `--map field=Column` overrides.
"""

from __future__ import annotations

from dataclasses import dataclass

from attain.errors import InvalidInput
from attain.imports.parsing import normalise_header


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | amount | number | date | int
    required: bool = False
    synonyms: tuple[str, ...] = ()


def _f(name: str, kind: str, *synonyms: str, required: bool = False) -> Field:
    return Field(name, kind, required, synonyms)


# Not "sales": in English files that is the amount column (Superstore's Sales).
_REP = _f("rep", "text", "rep", "salesrep", "salesperson", "seller", "employee", "employeekey", "salespersonid", "owner",
          "销售员", "业务员", "销售", "销售代表", "负责人", "销售人员", "业务代表", "员工", "客户经理")
_CUSTOMER = _f("customer", "text", "customer", "customerid", "customercode", "customerkey", "client", "account",
               "resellerkey", "客户", "客户编号", "客户编码", "客户代码", "客户id")
_PRODUCT = _f("product", "text", "product", "productid", "productcode", "productkey", "sku", "item", "itemcode",
              "stockcode", "产品", "产品编号", "产品编码", "商品", "商品编码", "物料编码", "存货编码", "料号")
_REGION = _f("region", "text", "region", "territory", "area", "salesterritory", "salesterritorykey", "territoryid", "区域", "大区", "地区", "片区", "销售区域")

FIELDS: dict[str, tuple[Field, ...]] = {
    "orders": (
        _f("line_id", "text", "lineid", "orderlineid", "rowid", "lineno", "明细id", "明细编号", "行号", "订单明细号"),
        _f("order_id", "text", "orderid", "orderno", "ordernumber", "salesordernumber", "invoiceno", "invoice",
           "订单号", "订单编号", "单号", "单据编号", "销售单号", required=True),
        _f("order_date", "date", "orderdate", "date", "invoicedate", "saledate", "日期", "下单日期", "订单日期",
           "销售日期", "单据日期", "开票日期", required=True),
        _REP,
        _f("rep_name", "text", "repname", "salespersonname", "销售员姓名", "业务员姓名"),
        _CUSTOMER,
        _f("customer_name", "text", "customername", "clientname", "accountname", "客户名称", "客户名", "单位名称"),
        _PRODUCT,
        _f("product_name", "text", "productname", "description", "itemname", "产品名称", "商品名称", "品名", "存货名称"),
        _f("product_line", "text", "productline", "category", "productcategory", "产品线", "产品类别", "品类", "大类"),
        _REGION,
        _f("quantity", "number", "quantity", "qty", "orderquantity", "数量", "销量", "件数"),
        _f("unit_price", "amount", "unitprice", "price", "单价", "售价"),
        _f("amount", "amount", "amount", "sales", "salesamount", "revenue", "total", "netamount", "linetotal",
           "subtotal", "金额", "销售额", "销售金额", "成交金额", "含税金额", "价税合计", "订单金额"),
        _f("cost", "amount", "cost", "totalproductcost", "productcost", "cogs", "成本", "成本金额", "销售成本"),
        _f("currency", "text", "currency", "currencycode", "币种", "币别", "货币"),
        # Crediting events (attain.credit): 开票日期 is also an order-date name; a file with both an
        # order date and an invoice date keeps the first as order_date and this one as invoiced_on.
        _f("shipped_on", "date", "shippedon", "shipdate", "shippingdate", "deliverydate", "发货日期", "出库日期", "交货日期"),
        _f("invoiced_on", "date", "invoicedon", "invoiceddate", "开票日期", "发票日期"),
        _f("paid_on", "date", "paidon", "paymentdate", "paiddate", "回款日期", "收款日期", "到账日期"),
        _f("original_sale_on", "date", "originalsaleon", "originalorderdate", "原销售日期", "原订单日期"),
    ),
    "customers": (
        _f("code", "text", "customer", "customerid", "customercode", "code", "customerkey", "resellerkey", "id",
           "客户编号", "客户编码", "客户代码", "编号", "客户id", required=True),
        _f("external_id", "text", "externalid", "externalcode", "crmid", "erpid", "resellerid", "外部编号", "外部id", "外部代码"),
        _f("name", "text", "customername", "name", "reseller", "resellername", "businessname", "客户名称", "客户", "名称", "单位名称"),
        _f("customer_type", "text", "customertype", "type", "newexisting", "客户类型", "新老客户", "客户类别"),
        _f("grade", "text", "grade", "class", "tier", "abc", "客户等级", "等级", "级别", "客户级别"),
        _f("segment", "text", "segment", "businesstype", "客户细分", "细分", "客户群"),
        _f("industry", "text", "industry", "行业", "所属行业"),
        _f("city", "text", "city", "城市", "所在城市"),
        _REGION,
        _f("owner", "text", "owner", "salesrep", "rep", "accountowner", "负责人", "销售员", "业务员", "客户经理"),
        _f("first_order_date", "date", "firstorderdate", "firstorder", "首单日期", "首次下单日期"),
    ),
    "reps": (
        # A data warehouse's *Key is what its fact tables use; its *ID is the HR number (external id).
        _f("code", "text", "code", "repcode", "employeekey", "employeeid", "empno", "staffid", "工号", "员工编号",
           "编号", "销售员编号", required=True),
        _f("external_id", "text", "externalid", "externalcode", "employeeid", "nationalidnumber", "hrid",
           "外部编号", "外部id", "人事编号"),
        _f("name", "text", "name", "salesperson", "repname", "employeename", "fullname", "姓名", "销售员", "业务员", "员工姓名"),
        _f("title", "text", "title", "jobtitle", "position", "职位", "岗位", "职务"),
        _f("email", "text", "email", "upn", "mail", "邮箱", "电子邮件"),
        _f("team", "text", "team", "group", "salesteam", "团队", "小组", "销售组"),
        _REGION,
        _f("manager", "text", "manager", "reportsto", "supervisor", "经理", "上级", "直属上级", "主管"),
        _f("start_date", "date", "startdate", "hiredate", "joindate", "入职日期", "开始日期", "到岗日期"),
        _f("end_date", "date", "enddate", "leavedate", "terminationdate", "离职日期", "结束日期"),
    ),
    "products": (
        _f("code", "text", "code", "productcode", "productkey", "productid", "sku", "itemcode", "产品编号",
           "产品编码", "商品编码", "物料编码", "编号", required=True),
        _f("external_id", "text", "externalid", "externalcode", "productid", "productalternatekey", "外部编号", "外部id"),
        _f("name", "text", "name", "productname", "product", "description", "产品名称", "商品名称", "品名", "名称"),
        # The most detailed grouping is the product line; a coarser category above it is optional.
        _f("line", "text", "productline", "line", "subcategory", "category", "产品线", "产品类别", "品类", "类别", "小类"),
        _f("category", "text", "category", "productcategory", "categoryname", "englishproductcategoryname", "大类", "产品大类"),
        _f("launched_on", "date", "launchdate", "launchedon", "上市日期", "上市时间"),
    ),
    "regions": (
        _f("code", "text", "code", "regioncode", "territorykey", "salesterritorykey", "territoryid", "territorycode", "id",
           "区域编号", "区域编码", "大区编号"),
        _f("name", "text", "name", "region", "territory", "regionname", "territoryname", "区域", "大区", "区域名称", "地区"),
        _f("parent", "text", "parent", "group", "parentregion", "territorygroup", "上级区域", "上级", "所属大区"),
        _f("manager", "text", "manager", "regionalmanager", "person", "head", "区域经理", "负责人", "经理"),
        _f("external_id", "text", "externalid", "externalcode", "外部编号", "外部id"),
    ),
    "territories": (
        _REP,
        _REGION,
        _f("start_date", "date", "startdate", "validfrom", "from", "开始日期", "生效日期"),
        _f("end_date", "date", "enddate", "validto", "to", "结束日期", "失效日期"),
    ),
    "opportunities": (
        _f("code", "text", "opportunityid", "oppid", "id", "code", "商机编号", "商机id", "机会编号", required=True),
        _f("name", "text", "opportunityname", "name", "商机名称", "机会名称"),
        _REP,
        _CUSTOMER,
        _PRODUCT,
        _f("amount", "amount", "amount", "value", "dealsize", "预计金额", "商机金额", "金额", required=True),
        _f("stage", "text", "stage", "status", "阶段", "商机阶段", "销售阶段", required=True),
        _f("created_on", "date", "createdon", "createddate", "created", "创建日期", "创建时间", required=True),
        _f("expected_close_on", "date", "expectedclose", "closedate", "expectedclosedate", "预计成交日期", "预计签约日期"),
        _f("closed_on", "date", "closedon", "actualclosedate", "成交日期", "关闭日期"),
        _f("source", "text", "source", "leadsource", "opportunitysource", "来源", "商机来源", "线索来源", "客户来源"),
        _f("qualified_on", "date", "qualifiedon", "qualifieddate", "确认日期", "合格日期"),
        _f("proposal_on", "date", "proposalon", "proposaldate", "方案日期", "报价日期"),
        _f("negotiation_on", "date", "negotiationon", "negotiationdate", "谈判日期", "商务谈判日期"),
    ),
    "activities": (
        _f("code", "text", "activityid", "id", "code", "活动编号", "拜访编号"),
        _f("kind", "text", "kind", "type", "activitytype", "活动类型", "类型", "拜访类型", required=True),
        _f("activity_date", "date", "date", "activitydate", "visitdate", "日期", "活动日期", "拜访日期", required=True),
        _REP,
        _CUSTOMER,
        _f("opportunity", "text", "opportunityid", "opportunity", "商机编号", "商机"),
        _f("note", "text", "note", "notes", "subject", "description", "备注", "内容", "拜访内容"),
    ),
    "targets": (
        _f("org", "text", "rep", "salesperson", "employeeid", "team", "region", "org", "orgnode", "node",
           "销售员", "业务员", "团队", "区域", "部门", "组织", required=True),
        _f("period", "text", "period", "month", "quarter", "week", "期间", "月份", "季度", "周", "日期"),
        _f("value", "amount", "value", "target", "quota", "salesquota", "amount", "目标", "目标值", "指标", "任务", "目标金额"),
        _PRODUCT,
        _f("customer_type", "text", "customertype", "客户类型", "新老客户"),
        _f("owner", "text", "owner", "负责人", "责任人"),
        _f("strategy_note", "text", "strategy", "strategynote", "note", "策略", "策略说明", "备注"),
        _f("year", "int", "year", "年", "年度", "年份"),
    ),
    # attain.credit: split/overlay credit and returned orders.
    "credits": (
        _f("order_id", "text", "orderid", "orderno", "ordernumber", "订单号", "订单编号", "单号", required=True),
        _f("line_id", "text", "lineid", "orderlineid", "明细id", "明细编号", "明细号", "行号"),
        _REP,
        _f("percent", "text", "percent", "percentage", "share", "split", "比例", "分成比例", "百分比", "业绩比例", "分配比例"),
        _f("kind", "text", "kind", "type", "credittype", "类型", "业绩类型", "计入方式"),
        _f("sales_team", "text", "salesteam", "team", "销售团队", "团队成员", "业绩分配"),
    ),
    "returns": (
        _f("order_id", "text", "orderid", "orderno", "ordernumber", "订单号", "订单编号", "原订单号", "单号", required=True),
        _f("returned_on", "date", "returnedon", "returndate", "退货日期", "退单日期", "日期"),
        _f("source", "text", "source", "reason", "note", "来源", "原因", "退货原因", "备注"),
    ),
}

KINDS = tuple(FIELDS)


def all_kinds() -> tuple[str, ...]:
    """The built-in kinds and those the domains register (`attain.imports.registry`)."""
    from attain.imports.registry import registered

    return (*KINDS, *registered())


def fields_for(kind: str) -> tuple[Field, ...]:
    if kind in FIELDS:
        return FIELDS[kind]
    from attain.imports.registry import registered

    if kind not in registered():
        raise InvalidInput.coded("import.unknown_kind", kind=kind, kinds=", ".join(all_kinds()))
    return registered()[kind].fields


def header_score(kind: str):  # type: ignore[no-untyped-def]
    """A function rating how many cells of a row are recognised column names of this kind."""
    known = {normalise_header(s) for f in fields_for(kind) for s in (f.name, *f.synonyms)}

    def score(row: list[str]) -> int:
        return sum(1 for cell in row if cell and normalise_header(cell) in known)

    return score


def parse_mapping(pairs: list[str], kind: str) -> dict[str, list[str]]:
    """`--map field=Column` (or `field=ColA+ColB` for a key made of several columns)."""
    names = {f.name for f in fields_for(kind)}
    mapping: dict[str, list[str]] = {}
    for pair in pairs:
        field, sep, columns = pair.partition("=")
        field = field.strip()
        if not sep or not field or not columns.strip():
            raise InvalidInput.coded("imports.fields.map_should_look_like", pair=pair)
        if field not in names:
            raise InvalidInput.coded("imports.fields.map_field_fields", field=field, kind=kind, items=', '.join(sorted(names)))
        mapping[field] = [c.strip() for c in columns.split("+")]
    return mapping


COLUMNS_SHOWN = 30  # a header of 100,000 columns is named by its first ones and a count, not listed
COLUMN_TEXT_MAX = 60


def columns_text(header: list[str], shown: int = COLUMNS_SHOWN) -> str:
    """The header for a message: the first `shown` columns (each cut to 60 characters), then how many
    more (`… (+99,970)`), so that the message stays a few lines however wide the file is."""
    names = [h if len(h) <= COLUMN_TEXT_MAX else h[:COLUMN_TEXT_MAX - 1] + "…" for h in header[:shown]]
    rest = len(header) - len(names)
    return ", ".join(names) + (f" … (+{rest:,})" if rest > 0 else "")  # no words: it goes into translated messages


def match_columns(kind: str, header: list[str], overrides: dict[str, list[str]]) -> dict[str, list[int]]:
    """Field name → indexes of the columns that hold it. Raises InvalidInput for missing fields.

    Explicit `--map` entries win; other fields take the first header cell whose normalised name is a
    synonym, earlier synonyms first (so 'Order Date' beats 'Date' for order_date).
    """
    normalised = [normalise_header(h) for h in header]
    exact = {h: i for i, h in reversed(list(enumerate(header)))}
    resolved: dict[str, list[int]] = {}
    for field, columns in overrides.items():
        indexes = []
        for column in columns:
            if column in exact:
                indexes.append(exact[column])
            elif normalise_header(column) in normalised:
                indexes.append(normalised.index(normalise_header(column)))
            else:
                raise InvalidInput.coded("imports.fields.map_file_column_columns", field=field, column=column, columns_text=columns_text(header))
        resolved[field] = indexes
    # A column mapped on its own is taken; columns of a composite key (line_id=OrderNo+Product)
    # still hold their own fields too.
    taken = {idx[0] for idx in resolved.values() if len(idx) == 1}
    for field in fields_for(kind):
        if field.name in resolved:
            continue
        for synonym in (field.name, *field.synonyms):
            key = normalise_header(synonym)
            index = next((i for i, h in enumerate(normalised) if h == key and i not in taken), None)
            if index is not None:
                resolved[field.name] = [index]
                taken.add(index)
                break
    missing = [f.name for f in fields_for(kind) if f.required and f.name not in resolved]
    if missing and not (kind == "targets" and missing == ["value"]):
        hints = "; ".join(f"{name} (e.g. {', '.join(_field(kind, name).synonyms[:3])})" for name in missing)
        raise InvalidInput(f"missing column for {hints}; columns found: {columns_text(header)}. Use --map field=Column",
                           code="import.missing_column", params={"hints": hints, "columns": columns_text(header)})
    return resolved


def _field(kind: str, name: str) -> Field:
    return next(f for f in fields_for(kind) if f.name == name)
