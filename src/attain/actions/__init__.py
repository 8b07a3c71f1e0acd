"""Daily action lists derived from the reverse funnel (issue 5)."""
