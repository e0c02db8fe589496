"""`flask fx import PATH.csv`: load exchange rates for converted reports.

The file has a header row `date,currency,base_currency,rate,source` (rate = the price
of one unit of currency in base_currency, e.g. the ECB's daily reference rates
re-based); a row for a date and pair already stored replaces it, so a corrected file
can be loaded again. Every row is checked before anything is written.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from flask import Blueprint
from sqlalchemy import select

from membership.extensions import db
from membership.ledger.models import FxRate
from membership.money import MoneyError, normalize_currency
from membership.unit_of_work import unit_of_work

bp = Blueprint("fx_cli", __name__, cli_group="fx")
COLUMNS = ("date", "currency", "base_currency", "rate", "source")


@bp.cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_rates(path: Path) -> None:
    """Load rates from a CSV file (see the module docstring for its columns)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise click.BadParameter(f"the header must be {','.join(COLUMNS)}", param_hint="PATH")
        parsed = [_parse(line_no, row) for line_no, row in enumerate(reader, start=2)]
    with unit_of_work():
        for on_date, currency, base, rate, source in parsed:
            existing = db.session.scalar(select(FxRate).where(FxRate.on_date == on_date, FxRate.currency == currency,
                                                              FxRate.base_currency == base))
            if existing is None:
                db.session.add(FxRate(on_date=on_date, currency=currency, base_currency=base, rate=rate,
                                      source=source))
            else:
                existing.rate, existing.source = rate, source
    click.echo(f"loaded {len(parsed)} rate(s) from {path.name}")


def _parse(line_no: int, row: dict[str, str]) -> tuple[date, str, str, Decimal, str]:
    try:
        on_date = date.fromisoformat(row["date"].strip())
        currency, base = normalize_currency(row["currency"]), normalize_currency(row["base_currency"])
        rate = Decimal(row["rate"].strip())
    except (ValueError, InvalidOperation, MoneyError, AttributeError) as exc:
        raise click.BadParameter(f"line {line_no}: {exc}", param_hint="PATH") from None
    if not rate.is_finite() or rate <= 0 or currency == base:
        raise click.BadParameter(f"line {line_no}: a rate must be positive, between two currencies",
                                 param_hint="PATH")
    return on_date, currency, base, rate, (row.get("source") or "").strip()[:64] or "import"
