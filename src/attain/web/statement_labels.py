"""Incentive statement lines in the page's language.

A statement line's label is stored as the service wrote it (English, then " / " and a Chinese
hint; frozen statements keep it so). The web recognises each label by its template below — the
msgid of the catalogue — and fills in the parameters in the page's language: the zh-CN page says
"分段累进：60%–80% 区间的销售额", the English one "marginal: sales in band 60%–80%". Words that
reach a label as parameters (metrics, own/team/company, order/new customer, sales) are translated
too. A label no template fits is shown as stored.

The templates mirror the labels built in `attain.incentives.calc` and `attain.incentives.service`;
tests/web/incentives/test_statement_labels.py checks every label of real statements is recognised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from attain.messages import N_

Gettext = Callable[[str], str]

LABELS: tuple[str, ...] = (
    N_("target incentive {year}/year, this period {period} / 目标奖金"),
    N_("credited {metric} of {who} under {plan} (target {target}) / 计入业绩 · weight {weight}%"),
    N_("credited {metric} of {who} under {plan} (target {target}) / 计入业绩"),
    N_("no target: no band can be reached / 无目标"),
    N_("retroactive: band {band} rate applies to all sales / 达档全额"),
    N_("below the first band / 未达档"),
    N_("marginal: sales in band {band} / 分段"),
    N_("cap {cap} per period / 封顶"),
    N_("no target: no attainment / 无目标"),
    N_("below the threshold {threshold}% / 未达门槛"),
    N_("curve at {attainment}% pays {payout}% of target incentive / 曲线"),
    N_("payout capped at {cap}% / 封顶"),
    N_("{metric} with {key} = {value} / 分类提成"),
    N_("milestone {percent}% of the period target by {deadline}: no target / 无目标"),
    N_("milestone {percent}% of the period target by {deadline}: not reached / 未达成"),
    N_("milestone {percent}% of the period target by {deadline}: not yet reached (as of {as_of}) / 尚未达成"),
    N_("milestone {percent}% of the period target by {deadline}: reached {reached} / 里程碑达成 · award: {award}"),
    N_("milestone {percent}% of the period target by {deadline}: reached {reached} / 里程碑达成"),
    N_("{amount} per {unit} {start}..{end}: {count} qualifying, credited share {share} of one / 专项奖励"),
    N_("team pool {pool} (team at {attainment}%) shared by {share_by} / 团队奖池"),
    N_("team pool not funded: team at {attainment}%, threshold {threshold}% / 奖池未达门槛"),
    N_("return of order {order} (sold {sold}) already in credited sales above / 退货冲减"),
    N_("correction of {period} (closed): {changes}; {closed} recomputed {paid} → {now}"),
    N_("total / 合计"),
)
# Parameters whose values are words of the catalogue.
WORDS_PARAMS = frozenset({"metric", "who", "unit", "share_by", "key", "changes"})
WORDS = (
    N_("revenue"), N_("gross_profit"), N_("quantity"), N_("orders"), N_("new_customers"),
    N_("own"), N_("team"), N_("company"), N_("order"), N_("new customer"), N_("sales"), N_("target_incentive"),
    N_("customer_type"), N_("product_line"), N_("customer_grade"), N_("figures changed"),
)
GROUPS = {"unit": "order|new customer"}  # a parameter of several words
CHANGE = re.compile(r"order (?P<order>.+?) (?P<how>returned/reduced|added/increased) (?P<amount>-?[\d,.]+)(?: \((?P<lines>lines? [^)]*)\))?")


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    for template in LABELS:
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{GROUPS.get(p, '.*?')})" for i, p in enumerate(parts))
        patterns.append((template, re.compile(regex, re.DOTALL)))
    return patterns


def recognise(label: str) -> tuple[str, dict[str, str]] | None:
    """(template, parameters) of a stored label, or None."""
    for template, pattern in _patterns():
        found = pattern.fullmatch(label)
        if found:
            return template, found.groupdict()
    return None


def _changes(text: str, gettext: Gettext) -> str:
    """'order SO-B returned/reduced -100,000 (line SO-B-1 -100,000), …' in the page's language."""
    def one(match: re.Match[str]) -> str:
        lines = match.group("lines")
        if lines:
            word, _sep, rest = lines.partition(" ")
            lines = gettext("order lines %(detail)s") % {"detail": rest} if word == "lines" else gettext("order line %(detail)s") % {"detail": rest}
        how = gettext("returned/reduced") if match.group("how") == "returned/reduced" else gettext("added/increased")
        text = gettext("order %(order)s %(how)s %(amount)s") % {"order": match.group("order"), "how": how, "amount": match.group("amount")}
        return f"{text} ({lines})" if lines else text

    return CHANGE.sub(one, text) if CHANGE.search(text) else gettext(text)


def translate_label(label: str, gettext: Gettext) -> str:
    """A stored statement label in the catalogue's language (as stored when no template fits)."""
    if not label:
        return label
    found = recognise(label)
    if found is None:
        return label
    template, params = found
    values = {name: (_changes(value, gettext) if name == "changes" else gettext(value) if name in WORDS_PARAMS else value)
              for name, value in params.items()}
    return gettext(template).format(**values)
