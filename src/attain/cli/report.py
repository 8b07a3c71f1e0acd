"""`attain report`: Reports: actuals, attainment, forecast, leaderboard and diagnosis."""

from __future__ import annotations

import typer

report_app = typer.Typer(help="Reports: actuals, attainment, forecast, leaderboard and diagnosis.", no_args_is_help=True)
