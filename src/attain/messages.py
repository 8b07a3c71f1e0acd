"""The catalogue of coded user-facing messages: code → English template with `{name}` fields.

Services raise `InvalidInput.coded("amount.not_yuan", what=..., text=...)`. `str(exc)` is the English
text (the CLI, logs, the JSON API); the web translates the template — it is the msgid of the Babel
catalogue (`web/locale/*/messages.po`) — and fills in the parameters in the page's language
(`attain.web.messages`). Messages stored as English text (an import job's row errors and warnings)
are recognised by their template (`recognise`) and translated the same way.

Parameters named in TRANSLATED are message ids themselves (roles, statuses, actions, import kinds)
and are translated too; a list parameter is joined with " or ".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache


def N_(message: str) -> str:
    """Mark a message id for the catalogue (pybabel extract -k N_)."""
    return message


MESSAGES: dict[str, str] = {
    # access
    "access.role_needed": N_("this needs the role {roles}; you are {role}"),
    "access.whole_company": N_("the review pack covers the whole company; ask a director or admin for it"),
    "access.csrf": N_("the form has expired; reload the page and try again"),
    # periods
    "period.unknown": N_("'{text}' is not a period; use 2027, 2027Q1, 2027-03, 2027-W10, 2027年3月, 本月, 上月, 本季度, 今年 or 近30天"),
    "period.invalid": N_("'{text}' is not a valid period"),
    "period.too_long": N_("the period is too long; use e.g. 2027, 2027Q1, 2027-03 or 本月"),
    "period.not_week": N_("'{text}' is not an ISO week; use e.g. 2027-W10"),
    "review.future_week": N_("week {week} has not begun (today is {today}); choose this week or an earlier one"),
    "date.invalid": N_("'{text}' is not a date like 2026-11-23"),
    # amounts and weights typed in the plan grid and wizard
    "amount.not_yuan": N_("{what} '{text}' is not an amount in yuan (e.g. 12000000 or 1200万)"),
    "amount.too_precise": N_("{what} '{text}' has more than two decimal places"),
    "amount.negative": N_("{what} '{text}' must not be negative"),
    "weights.not_numbers": N_("weights for {what} '{text}' must be numbers such as 40,60"),
    "weights.count": N_("{what} needs {count} weights (one per member), got '{text}'"),
    "weights.all_zero": N_("weights for {what} '{text}' must be non-negative and not all zero"),
    "wizard.year": N_("the year '{text}' is not a year such as 2027"),
    "wizard.no_level": N_("{scope} has no {level} to split to"),
    "wizard.preview_again": N_("the scope of the split is no longer loaded; preview again"),
    "wizard.no_history": N_("no sales in {window} to split {what} by history; choose equal shares"),
    "wizard.no_products": N_("there are no product lines to split by; import products first"),
    "wizard.customer_history": N_("customer types split by equal shares or weights (e.g. 40,60 for new, existing)"),
    "wizard.no_dimension": N_("choose at least one dimension to split by"),
    "wizard.lock_gone": N_("locked cell {cell} is not in the preview; preview again"),
    "wizard.cell_locks": N_("single cells lock only with exactly two dimensions; lock row totals instead"),
    "wizard.unit_positive": N_("the rounding unit must be positive"),
    "wizard.total_off_unit": N_("the total {total} is not a multiple of the rounding unit {unit}"),
    # market inputs, anchoring and early warning (attain.market)
    "market.share_text": N_("{what} '{value}' is not a share; use e.g. 30% or 0.3"),
    "market.share_range": N_("{what} '{value}' must be more than 0 and at most 100 %"),
    "market.rate_text": N_("{what} '{value}' is not a rate; use e.g. 8% or 0.08"),
    "market.rate_range": N_("{what} '{value}' is out of range (more than -100 %, at most +1000 %)"),
    "market.no_region": N_("no region '{key}' (a region's or the company's code or name)"),
    "market.no_line": N_("no product line '{key}'"),
    "market.size_negative": N_("an amount must not be negative, got {value}"),
    "market.event_kind": N_("'{kind}' is not a competitor event kind; use {kinds}"),
    "market.severity": N_("severity '{value}' must be 1 (low), 2 (medium) or 3 (high)"),
    "market.no_event": N_("no competitor event {id}"),
    "market.no_market": N_("no market size is recorded for {year}; import one with attain import market-size FILE"),
    "market.hire_outside": N_("a hire starting {day} is outside the plan year {year}"),
    "market.no_lead_yield": N_("no marketing spend and leads in {window} to learn the lead yield from; give --lead-yield (leads per 10,000 yuan)"),
    "market.no_budget": N_("no marketing budget: give --budget or import the marketing spend of {window}"),
    "market.budget_without_change": N_("--budget is used with --budget-change (e.g. 30%)"),
    "market.no_win_rate": N_("no won or lost opportunities in {window} to learn the win rate from; give --win-rate"),
    "market.no_deal_size": N_("no won opportunities in {window} to learn the deal size from; give --deal-size"),
    "market.rule_disabled": N_("the market_shift alert rule is disabled; enable it with attain alerts enable market_shift"),
    "market.unit": N_("the rounding unit must be positive"),
    "market.no_new_rep_output": N_("a new rep would sell nothing in the plan year; give --productivity"),
    # plans
    "plan.not_found": N_("no plan named '{name}'"),
    "plan.name_length": N_("plan name '{name}' must be 1 to 100 characters"),
    "plan.exists": N_("a plan named '{name}' already exists"),
    "plan.moved_on": N_("plan {plan} is at version {version}, but this change was based on version {expect}; "
                        "reload the page and apply the change again"),
    "plan.changed_since": N_("plan {plan} was changed by someone else since version {version}; reload the page and try again"),
    "plan.not_draft": N_("plan {plan} v{version} is {status}; edit a new draft version instead"),
    "plan.not_planner": N_("{user} is a {role}; plans are changed by managers, directors and admins"),
    "plan.approver_only": N_("only a director or admin may {action} a plan; {user} is a {role}"),
    "plan.outside_scope": N_("{node} is outside what {user} manages"),
    "plan.part_only": N_("plan {plan} covers {root}; {user} manages only part of it and may not {action} it"),
    "plan.wrong_status": N_("plan {plan} is {status}; it cannot be {action} from there"),
    "plan.smart_errors": N_("plan {plan} has {count} SMART error(s) (first: {first}); fix them or submit with an override reason"),
    "plan.four_eyes": N_("{user} submitted plan {plan}; another director or admin approves it (four eyes)"),
    "plan.pending_revision": N_("plan {plan} has a pending revision (v{version}, {status}); approve it before locking"),
    "plan.revision_reason": N_("a revision needs a reason"),
    "plan.ended": N_("plan {plan} ended on {end}; its periods are closed and cannot be revised"),
    "cell.negative": N_("a target cannot be negative, got {value}"),
    "cell.off_unit": N_("{value} is not a multiple of the plan's rounding unit {unit} (minor units)"),
    "cell.no_cell": N_("plan {plan} has no cell for {node} in {period}"),
    "cell.closed": N_("period {period} is closed; {cell} cannot change"),
    "cell.locked": N_("cell {node} {period} is locked at {value}; unlock it first"),
    "cell.lock_conflict": N_("changing {cell} would change locked cell {locked}; unlock it or redistribute within it"),
    "cell.top": N_("{cell} is the top of the part being redistributed; change the total instead"),
    "note.too_long": N_("a strategy note is at most 2000 characters"),
    # plan version reasons (stored as English text, recognised when shown)
    "reason.split_wizard": N_("split wizard: {axes}"),
    "reason.commits": N_("{node} commits {value} for {period}"),
    "reason.strategy_note": N_("strategy note for {row}"),
    "reason.targets_from": N_("targets from {source}"),
    "reason.effective_from": N_("{reason} (from {start})"),
    # tracking
    "diagnosis.not_started": N_("{period} starts {start}, after --as-of {as_of}: nothing to diagnose yet"),
    # daily actions
    "actions.not_employed": N_("{rep} is not employed on {day}"),
    # imports
    "import.rejected_one": N_("{source}: {problems}1 bad row; nothing was imported"),
    "import.rejected_many": N_("{source}: {problems}{rows} bad rows; nothing was imported"),
    "import.problems_in": N_("{count} problems in "),
    "import.unknown_kind": N_("unknown import kind '{kind}'; choose one of {kinds}"),
    "import.missing_column": N_("missing column for {hints}; columns found: {columns}. Choose the column for each field"),
    "import.expired": N_("the uploaded file has expired; upload it again"),
    "import.not_table": N_("'{name}' is not a CSV or Excel file ({suffixes})"),
    "import.empty_file": N_("'{name}' is empty"),
    # incentive statements (attain.incentives)
    "statement.out_suffix": N_("{name}: statements are written as .xlsx, .html or .pdf (or printed with --json)"),
    "statement.no_cjk_font": N_("no Chinese (CJK) font for the PDF: install fonts-noto-cjk (apt-get install fonts-noto-cjk) or set {env} to a .ttf/.otf/.ttc file"),
    "statement.font_missing": N_("{env}={font}: no such font file"),
    "statement.font_face": N_("{font} has no face named '{face}'"),
    # import rows (recognised in stored results by their template)
    "row.empty": N_("{field} is empty"),
    "row.not_number": N_("'{text}' is not a number"),
    "row.not_whole": N_("'{text}' is not a whole number"),
    "row.not_date": N_("'{text}' is not a date"),
    "row.not_word": N_("'{text}' is not {what}"),
    "row.too_long": N_("longer than {limit} characters ({length})"),
    "row.too_large": N_("{number} is too large (the limit is {limit})"),
    "row.too_large_amount": N_("{number} is too large an amount"),
    "row.separators": N_("'{text}' has misplaced thousands separators"),
    "row.fields": N_("{count} fields but the header has {width}; is a comma inside a value unquoted?"),
    # import warnings
    "warn.no_quantity": N_("no quantity column: quantities are recorded as 0"),
    "warn.amount_computed": N_("amount computed as quantity × unit price, rounded half up to the cent"),
    "warn.rep_from_region": N_("{count} lines without a rep given to the manager of their region"),
    "warn.still_no_rep": N_("{count} lines still without a rep (no region, or a region without a manager)"),
    "warn.negative": N_("{count} negative lines (returns, cancellations) kept as negative sales"),
    "warn.no_customer": N_("{count} lines without a customer kept (counted in totals, under no customer)"),
    "warn.line_by_product": N_("no line id column: each line is identified by order id + product"),
    "warn.line_by_product_repeats": N_("no line id column: each line is identified by order id + product; {count} lines "
                                       "repeat an order id + product and are numbered by their position in the file (#2, #3 …)"),
    "warn.line_by_position": N_("no line id or product column: lines are identified by order id + position in the order"),
    "warn.territories_removed": N_("{count} earlier territory rows of these reps are no longer in the file and were removed"),
}

# Parameters whose values are message ids too (translated before they are filled in).
TRANSLATED = frozenset({"role", "roles", "status", "action", "kind", "kinds", "what", "axes", "level"})

# Words that reach messages as parameters: plan actions and split dimensions.
WORDS = (
    N_("approve"), N_("lock"), N_("submit"), N_("revise"), N_("split"), N_("edit"), N_("change-total"), N_("unlock"),
    N_("created"), N_("revised"), N_("note"), N_("commitment"), N_("import targets"),
    N_("org"), N_("time"), N_("product"), N_("customer_type"), N_("total"), N_("rounding unit"),
    # import kinds not in the web's own list (attain.imports.fields.KINDS)
    N_("regions"), N_("territories"), N_("credits"), N_("returns"),
)


def english(code: str, params: dict[str, object]) -> str:
    """The English text of a coded message."""
    return fill(MESSAGES[code], params, lambda text: text)


def fill(template: str, params: dict[str, object], gettext: Callable[[str], str]) -> str:
    """`template` with its fields filled in; TRANSLATED parameters pass through `gettext`."""
    values: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, list | tuple):
            items = [gettext(str(v)) if name in TRANSLATED else str(v) for v in value]
            values[name] = gettext(" or ").join(items)
        else:
            values[name] = gettext(value) if name in TRANSLATED and isinstance(value, str) else value
    return template.format(**values)


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    for code, template in MESSAGES.items():
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
        patterns.append((code, re.compile(regex, re.DOTALL)))
    # Longest templates first: "no line id column: …; {count} lines repeat …" before its shorter prefix.
    return sorted(patterns, key=lambda p: -len(MESSAGES[p[0]]))


def recognise(text: str) -> tuple[str, dict[str, str]] | None:
    """(code, params) of an English message stored as text, or None when no template fits it."""
    for code, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match:
            return code, match.groupdict()
    return None

