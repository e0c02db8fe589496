"""`flask reports rollup [--month YYYY-MM | --all]`: roll closed months up now (beat does
it hourly, workers/tasks/reports.py). Without options: every closed month not rolled
yet and every month a late change marked; `--month` re-rolls one; `--all` every closed
month from the first one with data."""

from __future__ import annotations

from datetime import date

import click

from membership.reports import rollup
from membership.reports.blueprint import bp


@bp.cli.command("rollup")
@click.option("--month", "month", metavar="YYYY-MM", help="Re-roll this closed month.")
@click.option("--all", "everything", is_flag=True, help="Re-roll every closed month.")
def rollup_command(month: str | None, everything: bool) -> None:
    """Sum closed months into the report roll-up tables (see membership/reports/rollup.py)."""
    if month and everything:
        raise click.UsageError("give --month or --all, not both")
    if not rollup.enabled():
        click.echo("SQLite: the reports compute every month live; there is nothing to roll up")
        return
    months: list[date] | None = None
    if month:
        try:
            months = [date.fromisoformat(f"{month}-01")]
        except ValueError:
            raise click.BadParameter("expected YYYY-MM", param_hint="--month") from None
        if months[0] >= rollup.open_month():
            raise click.BadParameter(f"{month} is not closed yet (the open month stays live)", param_hint="--month")
    elif everything:
        months = rollup.closed_months()
    done = rollup.run(months)
    if done is None:
        click.echo("another roll-up is running; nothing done")
        return
    for source, rolled in done.items():
        span = f"{rolled[0]:%Y-%m} .. {rolled[-1]:%Y-%m}" if rolled else "nothing to do"
        click.echo(f"{source}: {len(rolled)} month(s) rolled ({span})")
