"""Entry point of the `attain` command. Commands live in sibling modules and register here."""

from __future__ import annotations

import typer

from attain.cli import act as act_cli
from attain.cli import data as data_cli
from attain.cli import split as split_cli
from attain.cli.alerts import alerts_app
from attain.cli.calendar import calendar_app
from attain.cli.config import config_app
from attain.cli.credit import credit_app
from attain.cli.customers import customers_app
from attain.cli.diagnosis import review_command
from attain.cli.entry import _click_exceptions, _database_in, database_error_line, run  # noqa: F401
from attain.cli.incentive import incentive_app
from attain.cli.market import market_app
from attain.cli.metrics import metric_app
from attain.cli.plan import plan_app
from attain.cli.report import report_app
from attain.cli.user import user_app

app = typer.Typer(
    name="attain",
    help="Attain: set, split, act on and track sales targets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

data_cli.register(app)
app.add_typer(metric_app, name="metric")
split_cli.register(app)
app.add_typer(config_app, name="config")
app.add_typer(calendar_app, name="calendar")
app.add_typer(plan_app, name="plan")
act_cli.register(app)
app.add_typer(credit_app, name="credit")
app.add_typer(report_app, name="report")
app.add_typer(customers_app, name="customers")
app.add_typer(alerts_app, name="alerts")
app.command("review")(review_command)
app.add_typer(user_app, name="user")
app.add_typer(incentive_app, name="incentive")
app.add_typer(market_app, name="market")


def main() -> None:
    """Run the CLI; user mistakes print a one-line message in red and exit 1, never a traceback."""
    run(app)


if __name__ == "__main__":
    main()
