"""Pure rules about customers."""

from __future__ import annotations

from datetime import date


def customer_type(first_order_date: date | None, period_start: date, override: str | None = None) -> str:
    """'new' when the customer's first order falls in or after the period start, else 'existing'.

    A customer with no order yet is a prospect and counts as new. An explicit override wins.
    """
    if override:
        return override
    if first_order_date is None or first_order_date >= period_start:
        return "new"
    return "existing"
