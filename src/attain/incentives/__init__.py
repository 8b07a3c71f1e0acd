"""Incentives: commission and bonus plans paid on the target plans in force (issue 16)."""
