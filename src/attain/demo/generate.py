"""Generate a realistic Chinese sales company, deterministically from a seed. Pure NumPy, no I/O.

三个大区 (华东, 华南, 华北), two teams each, 30 people who sell (each team: a manager and four reps;
three hired during the plan year, one who left the year before), four product lines with 40
products (some new, high-margin), ~2,000 graded customers, and about three years of order lines
with a Spring Festival dip, quarter-end and year-end pushes and working-day effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from attain.split.calendar import day_range, working_day_mask

REGIONS = (("EAST", "华东", ("上海", "杭州")), ("SOUTH", "华南", ("广州", "深圳")), ("NORTH", "华北", ("北京", "天津")))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲建国志文斌浩宇晨欣怡子轩梓涵"
PRODUCT_LINES = (
    ("IA", "工业自动化", 2_800_00, 0.32),
    ("SI", "智能仪表", 950_00, 0.38),
    ("SW", "软件服务", 6_000_00, 0.55),
    ("CS", "耗材配件", 80_00, 0.25),
)
INDUSTRIES = ("制造业", "汽车零部件", "电子", "化工", "食品饮料", "医药", "能源", "物流")
SEGMENTS = ("大客户", "中小企业", "渠道伙伴")
COMPANY_WORDS = "华信恒达远航中科瑞丰鑫源东方金诚宏图博雅天成嘉禾盛世新创联合永泰"
# Monthly seasonality of B2B sales in China: Spring Festival dip (Jan/Feb), year-end push.
MONTH_FACTOR = np.array([0.85, 0.55, 1.0, 1.0, 1.0, 1.1, 0.95, 0.95, 1.05, 0.95, 1.1, 1.45])


@dataclass(frozen=True)
class Person:
    code: str
    name: str
    region: str
    team: str
    title: str
    manager: str | None
    start: date
    end: date | None


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    line: str
    list_price: int  # fen
    margin: float
    launched_on: date | None


@dataclass(frozen=True)
class CustomerRow:
    code: str
    name: str
    grade: str
    segment: str
    industry: str
    city: str
    region: str
    owner: str
    acquired_on: date


@dataclass(frozen=True)
class Orders:
    """Order lines as parallel arrays (amount and cost in fen)."""

    line_ids: list[str]
    order_ids: list[str]
    dates: NDArray[np.datetime64]
    reps: NDArray[np.int64]  # index into DemoCompany.people
    customers: NDArray[np.int64]
    products: NDArray[np.int64]
    quantities: NDArray[np.int64]
    amounts: NDArray[np.int64]
    costs: NDArray[np.int64]


@dataclass(frozen=True)
class OpportunityRow:
    code: str
    name: str
    rep: int  # index into people
    customer: int  # index into customers
    amount: int  # fen
    stage: str
    created_on: date
    expected_close_on: date
    closed_on: date | None
    history: tuple[tuple[str, date], ...]  # (stage, date reached), in order


@dataclass(frozen=True)
class ActivityRow:
    code: str
    kind: str
    day: date
    rep: int
    customer: int
    opportunity: str | None
    note: str


@dataclass(frozen=True)
class DemoCompany:
    year: int
    as_of: date
    people: list[Person]
    products: list[Product]
    customers: list[CustomerRow]
    orders: Orders
    opportunities: list[OpportunityRow]
    activities: list[ActivityRow]


def _name(rng: np.random.Generator) -> str:
    return SURNAMES[rng.integers(len(SURNAMES))] + "".join(GIVEN[i] for i in rng.integers(len(GIVEN), size=rng.integers(1, 3)))


def _people(rng: np.random.Generator, year: int) -> list[Person]:
    first = date(year - 2, 1, 1)
    people: list[Person] = []
    hires = {7: date(year, 3, 1), 18: date(year, 7, 1), 27: date(year, 9, 1), 12: date(year - 1, 5, 15)}
    leaver = 13
    number = 0
    for region_code, _region_name, cities in REGIONS:
        for t in range(len(cities)):
            team = f"{region_code}-T{t + 1}"
            manager_code = None
            for k in range(5):
                number += 1
                code = f"R{number:03d}"
                start = hires.get(number, first - timedelta(days=int(rng.integers(200, 2000))))
                end = date(year - 1, 8, 31) if number == leaver else None
                people.append(
                    Person(code, _name(rng), region_code, team, "销售经理" if k == 0 else "销售代表",
                           manager_code, start, end)
                )
                if k == 0:
                    manager_code = code
    return people


def _products(rng: np.random.Generator, year: int) -> list[Product]:
    products = []
    for line_code, line_name, price, margin in PRODUCT_LINES:
        for k in range(10):
            new = k >= 8  # the last two of each line are new, high-margin models
            launched = date(year - 1, 4 + 3 * (k - 8), 1) if new else None
            products.append(
                Product(
                    f"{line_code}-{k + 1:02d}",
                    f"{line_name}{'新一代' if new else ''}{k + 1:02d}型",
                    line_code,
                    int(price * float(rng.uniform(0.6, 1.6)) // 100 * 100),
                    min(0.75, margin + (0.2 if new else float(rng.uniform(-0.05, 0.05)))),
                    launched,
                )
            )
    return products


def _customers(rng: np.random.Generator, people: list[Person], year: int, count: int) -> list[CustomerRow]:
    customers = []
    first = date(year - 2, 1, 1)
    span = (date(year, 6, 30) - first).days
    by_region: dict[str, list[Person]] = {}
    for person in people:
        by_region.setdefault(person.region, []).append(person)
    grades = rng.choice(np.array(["A", "B", "C"]), size=count, p=[0.1, 0.3, 0.6])
    regions = rng.choice(len(REGIONS), size=count, p=[0.45, 0.30, 0.25])
    for i in range(count):
        region_code, _name_zh, cities = REGIONS[regions[i]]
        city = cities[int(rng.integers(len(cities)))]
        owners = [p for p in by_region[region_code] if p.team.endswith(str(cities.index(city) + 1))]
        owner = owners[int(rng.integers(len(owners)))]
        word = "".join(COMPANY_WORDS[j] for j in rng.integers(len(COMPANY_WORDS), size=2))
        industry = INDUSTRIES[int(rng.integers(len(INDUSTRIES)))]
        # 70 % are customers from before the data starts, the rest are won over time.
        acquired = first if rng.random() < 0.7 else first + timedelta(days=int(rng.integers(span)))
        customers.append(
            CustomerRow(f"C{i + 1:05d}", f"{city}{word}{industry[:2]}有限公司", str(grades[i]),
                        SEGMENTS[0] if grades[i] == "A" else SEGMENTS[int(rng.integers(1, 3))], industry, city,
                        region_code, owner.code, acquired)
        )
    return customers


def _day_weights(days: NDArray[np.datetime64]) -> NDArray[np.float64]:
    worked, _warnings = working_day_mask(days)
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64)
    quarter_end = (months % 3 == 2) & (day_of_month >= 20)
    years = days.astype("datetime64[Y]").astype(np.int64)
    growth = 1.12 ** (years - years[0])
    return MONTH_FACTOR[months] * np.where(worked, 1.0, 0.06) * np.where(quarter_end, 1.25, 1.0) * growth


def _orders(rng: np.random.Generator, people: list[Person], products: list[Product], customers: list[CustomerRow],
            year: int, as_of: date, lines_target: int) -> Orders:
    days = day_range(date(year - 2, 1, 1), as_of)
    weights = _day_weights(days)
    full_span = len(day_range(date(year - 2, 1, 1), date(year, 12, 31)))
    scale = (lines_target / 2.0) / weights.mean() / full_span
    per_day = rng.poisson(weights * scale)
    order_days = np.repeat(days, per_day)
    n_orders = order_days.size

    grade_weight = {"A": 8.0, "B": 3.0, "C": 1.0}
    customer_p = np.array([grade_weight[c.grade] for c in customers])
    customer_p /= customer_p.sum()
    order_customers = rng.choice(len(customers), size=n_orders, p=customer_p)
    acquired = np.array([np.datetime64(c.acquired_on, "D") for c in customers])
    too_early = order_days < acquired[order_customers]
    veterans = np.nonzero(acquired == acquired.min())[0]
    order_customers[too_early] = rng.choice(veterans, size=int(too_early.sum()))

    code_index = {p.code: i for i, p in enumerate(people)}
    owner = np.array([code_index[c.owner] for c in customers])[order_customers]
    starts = np.array([np.datetime64(p.start, "D") for p in people])
    ends = np.array([np.datetime64(p.end or date(9999, 12, 31), "D") for p in people])
    managers = np.array([code_index[p.manager] if p.manager else i for i, p in enumerate(people)])
    inactive = (order_days < starts[owner]) | (order_days > ends[owner])
    order_reps = np.where(inactive, managers[owner], owner)

    lines_per_order = 1 + rng.binomial(3, 0.34, size=n_orders)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    n_lines = line_order.size
    launched = np.array([np.datetime64(p.launched_on or date(1900, 1, 1), "D") for p in products])
    line_days = order_days[line_order]
    line_products = rng.integers(len(products), size=n_lines)
    unlaunched = line_days < launched[line_products]
    mature = np.nonzero(launched == launched.min())[0]
    line_products[unlaunched] = rng.choice(mature, size=int(unlaunched.sum()))

    prices = np.array([p.list_price for p in products], dtype=np.int64)
    margins = np.array([p.margin for p in products])
    grade_size = np.array([{"A": 3.0, "B": 1.6, "C": 1.0}[c.grade] for c in customers])[order_customers][line_order]
    quantities = np.maximum(1, rng.poisson(1.5 * grade_size)).astype(np.int64)
    discount_pct = rng.integers(0, 16, size=n_lines)  # 0-15 % off list price
    unit_prices = prices[line_products] * (100 - discount_pct) // 100
    amounts = unit_prices * quantities
    costs = np.rint(prices[line_products] * (1 - margins[line_products])).astype(np.int64) * quantities

    sequence_in_day = np.arange(n_orders) - np.repeat(np.cumsum(per_day) - per_day, per_day)
    day_text = np.datetime_as_string(order_days).astype(object)
    order_ids = [f"SO{d.replace('-', '')}{s:04d}" for d, s in zip(day_text, sequence_in_day)]
    line_numbers = np.arange(n_lines) - np.repeat(np.cumsum(lines_per_order) - lines_per_order, lines_per_order) + 1
    line_order_ids = [order_ids[i] for i in line_order]
    return Orders(
        line_ids=[f"{o}-{n}" for o, n in zip(line_order_ids, line_numbers)],
        order_ids=line_order_ids,
        dates=line_days,
        reps=order_reps[line_order],
        customers=order_customers[line_order],
        products=line_products,
        quantities=quantities,
        amounts=amounts,
        costs=costs,
    )


STAGES = ("lead", "qualified", "proposal", "negotiation")
ACTIVITY_BY_STAGE = {"lead": "call", "qualified": "visit", "proposal": "proposal", "negotiation": "meeting"}
NOTES = {"call": "电话沟通需求", "visit": "上门拜访，了解现场情况", "proposal": "发送技术方案与报价", "meeting": "商务谈判，确认合同条款"}
BIG_ORDER_FEN = 60_000_00  # orders from 60,000 yuan up went through the pipeline as opportunities


def _pipeline(rng: np.random.Generator, people: list[Person], orders: Orders, as_of: date) -> tuple[list[OpportunityRow], list[ActivityRow]]:
    """Opportunities consistent with the orders: every big order was a won deal; lost and open deals
    around them; activities (call → visit → proposal → meeting) along each deal's stage history."""
    starts = np.flatnonzero(np.r_[True, np.array(orders.order_ids[1:]) != np.array(orders.order_ids[:-1])])
    totals = np.add.reduceat(orders.amounts, starts)
    big = starts[totals >= BIG_ORDER_FEN]
    big_totals = totals[totals >= BIG_ORDER_FEN]
    opportunities: list[OpportunityRow] = []
    first_day = orders.dates.min().item()
    active = [i for i, p in enumerate(people) if p.end is None]

    def history(created: date, closed: date, reached: int) -> tuple[tuple[str, date], ...]:
        span = (closed - created).days
        return tuple((stage, created + timedelta(days=int(span * k / 4))) for k, stage in enumerate(STAGES[: reached + 1]))

    for start, total in zip(big.tolist(), big_totals.tolist()):
        won_on = orders.dates[start].item()
        created = max(first_day, won_on - timedelta(days=int(rng.integers(20, 90))))
        steps = history(created, won_on, 3) + (("won", won_on),)
        opportunities.append(OpportunityRow("", f"{orders.order_ids[start]} 项目", int(orders.reps[start]), int(orders.customers[start]),
                                            int(total), "won", created, won_on, won_on, steps))
    # Lost deals: about 1.5 per won deal, dropped at a random stage.
    lost = int(len(big) * 1.5)
    span_days = (as_of - first_day).days
    picks = rng.integers(len(big), size=lost)
    for k in range(lost):
        template = big[picks[k]]
        created = first_day + timedelta(days=int(rng.integers(0, max(span_days - 120, 1))))
        lost_on = created + timedelta(days=int(rng.integers(10, 120)))
        reached = int(rng.integers(0, 4))
        steps = history(created, lost_on, reached) + (("lost", lost_on),)
        amount = int(big_totals[picks[k]] * rng.uniform(0.5, 1.8)) // 100 * 100
        opportunities.append(OpportunityRow("", "未成交项目", int(orders.reps[template]), int(orders.customers[template]),
                                            amount, "lost", created, lost_on, lost_on, steps))
    # Open deals: created in the last 90 days, at every stage, closing in the next quarter.
    open_count = max(1, len(big) // 12)
    for _ in range(open_count):
        template = big[int(rng.integers(len(big)))]
        created = as_of - timedelta(days=int(rng.integers(1, 90)))
        expected = as_of + timedelta(days=int(rng.integers(7, 100)))
        reached = int(rng.integers(0, 4))
        rep = int(orders.reps[template]) if int(orders.reps[template]) in active else active[int(rng.integers(len(active)))]
        steps = history(created, as_of, reached)
        amount = int(totals[int(rng.integers(len(totals)))] * rng.uniform(1.0, 3.0)) // 100 * 100 + BIG_ORDER_FEN
        opportunities.append(OpportunityRow("", "跟进中项目", rep, int(orders.customers[template]), amount, STAGES[reached],
                                            created, expected, None, steps))
    opportunities.sort(key=lambda o: (o.created_on, o.rep, o.customer, o.amount))
    numbered = [
        OpportunityRow(f"OPP{i + 1:06d}", o.name, o.rep, o.customer, o.amount, o.stage, o.created_on, o.expected_close_on, o.closed_on, o.history)
        for i, o in enumerate(opportunities)
    ]
    activities: list[ActivityRow] = []
    for opportunity in numbered:
        for stage, day in opportunity.history:
            if stage not in ACTIVITY_BY_STAGE or day > as_of:
                continue
            kind = ACTIVITY_BY_STAGE[stage]
            for repeat in range(1 + int(rng.integers(0, 2))):
                when = min(as_of, day + timedelta(days=int(rng.integers(0, 6)) + 7 * repeat))
                activities.append(ActivityRow(f"ACT{len(activities) + 1:07d}", kind, when, opportunity.rep, opportunity.customer,
                                              opportunity.code, NOTES[kind]))
    return numbered, activities


def generate(*, seed: int, year: int, as_of: date, customers: int = 2000, lines_target: int = 100_000) -> DemoCompany:
    """The whole company. The same (seed, year, as_of) gives the same company, line for line."""
    rng = np.random.default_rng(seed)
    people = _people(rng, year)
    products = _products(rng, year)
    customer_rows = _customers(rng, people, year, customers)
    orders = _orders(rng, people, products, customer_rows, year, as_of, lines_target)
    opportunities, activities = _pipeline(rng, people, orders, as_of)
    return DemoCompany(year, as_of, people, products, customer_rows, orders, opportunities, activities)
