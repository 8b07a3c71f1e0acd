"""What-if: what one more sale of `extra` fen pays a participant, with every component of the plan.

The sale is made on `as_of` by the participant (their own credited sales; it is also their
team's and the company's). `Sale` says which sale it is: its slice (customer type, product line,
customer grade) and whether it is to a new customer. Each component answers "what do I pay with x
fen more" from the figures the statement already read — no query per person:

- rate tables and payout curves (blended on team/company attainment too): the sale moves attainment;
- slice rates: the sale adds to the slice when it is in it (`Sale.slice`);
- milestones: reached when the running total at `as_of` plus the sale reaches the goal and the
  deadline has not passed (own or team scope);
- SPIFs: one more qualifying order (or new customer) when `as_of` is in the window, the order is
  large enough and of the product line asked for (credited in full to the rep);
- team pools: the team's attainment and, shared by sales, the rep's share move.

The next step is the nearest of: the next band or curve point, an unreached milestone, and the
team pool's threshold; its gain is everything the sale needed to reach it pays (a band and a
milestone crossed together add up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING

from attain.errors import InvalidInput
from attain.incentives import calc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attain.incentives.models import IncentiveComponent, IncentivePlan
    from attain.incentives.service import WhatIf, _Context, _Figures, _Person
    from attain.periods import Period

SLICE_KEYS = ("customer_type", "product_line", "customer_grade")


@dataclass(frozen=True)
class Sale:
    """Which sale the what-if is about: `slice` {customer_type: new} / {product_line: P-01} /
    {customer_grade: A} (any of them), `new_customer` (implied by customer_type new)."""

    slice: dict[str, str] = field(default_factory=dict)

    @property
    def new_customer(self) -> bool:
        return self.slice.get("customer_type") == "new"

    def matches(self, wanted: dict[str, str]) -> bool:
        return all(self.slice.get(key) == value for key, value in wanted.items())

    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.slice.items())


def parse_sale(text: str | None) -> Sale:
    """'customer_type=new,product_line=P-01' → Sale; InvalidInput naming what is wrong."""
    if not text or not text.strip():
        return Sale()
    found: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in SLICE_KEYS or not value:
            raise InvalidInput.coded("whatif.slice", text=part.strip(), keys=", ".join(SLICE_KEYS))
        if key == "customer_type" and value not in ("new", "existing"):
            raise InvalidInput.coded("whatif.customer_type", value=value)
        found[key] = value
    return Sale(found)


Pay = Callable[[int], int]


def what_if_of(
    session: Session, plan: IncentivePlan, span: Period, as_of: date, people: list[_Person], person: _Person, extra: int,
    context: _Context, sale: Sale,
) -> WhatIf:
    from attain.incentives import service as svc

    earned = calc.total_of(person.lines)
    payouts: list[Pay] = []
    steps: list[calc.NextStep] = []
    pending: list[tuple[str, str, Callable[[Pay], calc.NextStep | None]]] = []
    for component in svc._components(session, plan.id):
        if not svc._applies(component, person):
            continue
        figures = context.figures(component.target_plan, svc._levels(component, people))  # type: ignore[arg-type]
        found = _PAYS[component.kind](component, figures, person, people, span, as_of, sale)
        if found is None:
            continue
        pay, step = found
        payouts.append(pay)
        if step is not None:
            pending.append((component.code, component.kind, step))

    def gain(x: int) -> int:
        return sum(p(x) - p(0) for p in payouts)

    for _code, _kind, make in pending:
        step = make(gain)
        if step is not None and step.needed > 0:
            steps.append(step)
    best = min(steps, key=lambda s: (s.needed, -s.gain)) if steps else None
    extra_pays = gain(extra)
    if best:
        message, message_en = calc.next_step_message(best), calc.next_step_message_en(best)
    else:
        message, message_en = "已在最高档 / no higher band or curve point", "Already in the top band"
    if extra:
        message += f"；再卖 {calc.wan_text(extra)} 多拿 {calc.money_text(extra_pays)} 元"
        message_en += f"; another {calc.money_text(extra)} of sales pays {calc.money_text(extra_pays)} more"
    return svc.WhatIf(person.node.code, span.label, as_of, earned, extra, extra_pays, best, message, person.node.name,
                      person.participant.role, message_en=message_en, sale=sale.label())


Found = tuple[Pay, "Callable[[Pay], calc.NextStep | None] | None"] | None


def _rate_table(component: IncentiveComponent, figures: _Figures, person: _Person, people: list[_Person], span: Period,
                as_of: date, sale: Sale) -> Found:
    from attain.incentives import service as svc

    table = svc.rate_table(component)
    actual, target = svc._own(figures, person)

    def pay(x: int) -> int:
        return calc.total_of(calc.rate_table_lines("", table, actual + x, target))

    slope = Fraction(0) if not target else 1 / target
    now = calc.attainment(actual, target)
    return pay, lambda gain: calc.next_step(component.code, gain, [b.lower for b in table.bands], now, slope, 0)


def _curve(component: IncentiveComponent, figures: _Figures, person: _Person, people: list[_Person], span: Period,
           as_of: date, sale: Sale) -> Found:
    from attain.incentives import service as svc

    shape, weight = svc.curve(component), Fraction(component.weight_bp or 0, 10_000)

    def pay(x: int) -> int:
        parts = svc._blend_parts(component, figures, person, x)
        attained = calc.blend([(s, calc.attainment(a, t)) for _l, s, a, t in parts])
        return calc.total_of(calc.curve_lines("", shape, attained, person.period_incentive, weight))

    parts = svc._blend_parts(component, figures, person)
    slope = sum((s / t for _l, s, _a, t in parts if t), Fraction(0))
    now = calc.blend([(s, calc.attainment(a, t)) for _l, s, a, t in parts])
    return pay, lambda gain: calc.next_step(component.code, gain, shape.kinks(), now, slope, 0)


def _slice(component: IncentiveComponent, figures: _Figures, person: _Person, people: list[_Person], span: Period,
           as_of: date, sale: Sale) -> Found:
    from attain.incentives import service as svc

    if person.figure_kind != "rep" or not sale.matches(component.spec["slice"]):
        return None  # the sale is not in this slice: the slice pays what it pays
    rate = svc._pct(component.spec["rate"])
    basis = next((int(line["basis"]) for line in person.lines  # type: ignore[call-overload]
                  if line.get("component") == component.code and line.get("step") == "slice" and line.get("basis") is not None), 0)

    def pay(x: int) -> int:
        return calc.round_fen(max(Fraction(basis + x), Fraction(0)) * rate)  # type: ignore[operator]

    return pay, None


def _milestone(component: IncentiveComponent, figures: _Figures, person: _Person, people: list[_Person], span: Period,
               as_of: date, sale: Sale) -> Found:
    from attain.incentives import service as svc

    spec = component.spec
    deadline = svc.milestone_deadline(component, span)
    if deadline is None or as_of > deadline or not spec.get("amount"):
        return None  # another period's, past its deadline, or a non-cash award (recorded, not paid)
    team = spec.get("scope") == "team"
    if team:
        actual, target = figures.of("team", person.team_id) if person.team_id is not None else (0, None)
    else:
        actual, target = figures.of(person.figure_kind, person.node.id if person.figure_kind == "rep" else person.figure_id)
    if target is None:
        return None
    goal = svc._pct(spec["percent"]) * target  # type: ignore[operator]
    amount = int(spec["amount"])
    if actual >= goal:
        return None  # reached already: the statement pays it

    def pay(x: int) -> int:
        return amount if actual + x >= goal else 0

    def step(gain: Pay) -> calc.NextStep:
        needed = calc.ceil_fen(goal - actual)
        return calc.NextStep(component.code, calc.attainment(goal, target) or Fraction(0), needed, gain(needed), "milestone", component.name)

    return pay, step


def _spif(component: IncentiveComponent, figures: _Figures, person: _Person, people: list[_Person], span: Period,
          as_of: date, sale: Sale) -> Found:
    spec = component.spec
    if person.figure_kind != "rep" or not (date.fromisoformat(spec["from"]) <= as_of <= date.fromisoformat(spec["to"])):
        return None
    if spec["per"] == "new_customer" and not sale.new_customer:
        return None
    if spec.get("product_line") and sale.slice.get("product_line") != spec["product_line"]:
        return None
    least = max(int(spec.get("min_order") or 0), 1)
    amount = int(spec["amount"])

    def pay(x: int) -> int:
        return amount if x >= least else 0

    return pay, None


def _pool(component: IncentiveComponent, figures: _Figures, person: _Person, people: list[_Person], span: Period,
          as_of: date, sale: Sale) -> Found:
    from attain.incentives import service as svc

    if person.team_id is None:
        return None
    spec = component.spec
    threshold = svc._pct(spec["threshold"])
    members = [p for p in people if p.team_id == person.team_id and svc._applies(component, p)]
    me = next(i for i, p in enumerate(members) if p is person)
    team_actual, team_target = figures.of("team", person.team_id)

    def pay(x: int) -> int:
        attained = calc.attainment(team_actual + x, team_target)
        if attained is None or attained < threshold:  # type: ignore[operator]
            return 0
        if spec["share_by"] == "sales":
            weights = [max(svc._own(figures, m)[0] + (x if i == me else 0), 0) for i, m in enumerate(members)]
        else:
            weights = [calc.round_fen(m.period_incentive) for m in members]
        return calc.pool_shares(int(spec["amount"]), weights)[me]

    def step(gain: Pay) -> calc.NextStep | None:
        if team_target is None:
            return None
        goal = threshold * team_target  # type: ignore[operator]
        if team_actual >= goal:
            return None
        needed = calc.ceil_fen(goal - team_actual)
        return calc.NextStep(component.code, threshold, needed, gain(needed), "pool", component.name)  # type: ignore[arg-type]

    return pay, step


_PAYS: dict[str, Callable[..., Found]] = {"rate_table": _rate_table, "payout_curve": _curve, "slice_rate": _slice,
                                          "milestone": _milestone, "spif": _spif, "team_pool": _pool}
