"""`flask mail ...`: operator commands for notices.

- `price-change PRICE_ID NEW_AMOUNT EFFECTIVE_DATE`: record the legally required
  notice (21 days ahead, never under 7) for every auto-renewing subscription on a
  price; NEW_AMOUNT in major units ("15.00"), EFFECTIVE_DATE as an ISO date/time
  (a bare date means midnight in the outlet's time zone). Changing the Stripe price
  itself stays with billing.
- `schedule`: run the notice finders and the sweeper now (what beat does every 5 min).
- `alerts`: list notices whose legal window closes soon unsent, as JSON lines.
- `apply-price-changes [--dry-run]`: on a change's date, move the subscribers who were
  told to the new price at Stripe and put it on sale (what beat does hourly;
  `billing/price_change_apply.py`); prints what it did or, dry, would do.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import Blueprint, current_app

from membership.billing import price_change_apply
from membership.billing.models import Price
from membership.billing.notices.alerts import alert_report
from membership.billing.notices.scheduling import schedule_due_notices, schedule_price_change
from membership.db import utcnow
from membership.errors import DomainError
from membership.extensions import db
from membership.mail.locks import try_run_lock
from membership.money import MoneyError, to_minor
from membership.unit_of_work import unit_of_work

bp = Blueprint("mail_cli", __name__, cli_group="mail")


def _effective(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO date", param_hint="EFFECTIVE_DATE") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(current_app.config["SETTINGS"].outlet_timezone))
    return when


@bp.cli.command("price-change")
@click.argument("price_id", type=int)
@click.argument("new_amount")
@click.argument("effective_date")
def price_change(price_id: int, new_amount: str, effective_date: str) -> None:
    """Record price-change notices for every auto-renewing subscription on PRICE_ID."""
    price = db.session.get(Price, price_id)
    if price is None:
        raise click.BadParameter(f"no price {price_id}", param_hint="PRICE_ID")
    try:
        with unit_of_work():
            amount = to_minor(new_amount, price.currency)
            created = schedule_price_change(price_id, amount, _effective(effective_date))
    except (MoneyError, DomainError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{created} price-change notices recorded")


@bp.cli.command("schedule")
def schedule() -> None:
    """Run the notice finders and the sweeper once."""
    with unit_of_work():
        counts = schedule_due_notices()
    click.echo(json.dumps(counts, sort_keys=True))


@bp.cli.command("alerts")
def alerts() -> None:
    """Print notices whose legal window closes soon (or closed) unsent."""
    for row in alert_report(utcnow()):
        click.echo(json.dumps(row, sort_keys=True))


@bp.cli.command("apply-price-changes")
@click.option("--dry-run", is_flag=True, help="Print what would happen; change nothing here or at Stripe.")
def apply_price_changes(dry_run: bool) -> None:
    """Apply the price changes whose date has come to the subscribers who were told."""
    if not try_run_lock(price_change_apply.LOCK):
        db.session.rollback()
        raise click.ClickException("another run is applying price changes; try again shortly")
    if dry_run:
        summary = price_change_apply.apply_due(dry_run=True)
        db.session.rollback()
    else:
        with unit_of_work():
            summary = price_change_apply.apply_due()
    for line in price_change_apply.describe(summary):
        click.echo(line)
