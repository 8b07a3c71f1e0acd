"""Reverse funnel: from a money target to deals, prospects and leads (issue 5)."""
