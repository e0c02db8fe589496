"""Converting money into a base currency from the stored rate table (`fx_rates`).

REVENUE.md: store and compute in the original currency; convert in a separate layer
from stored rates, and say which rates were used. A rate is the price of one unit of
`currency` in `base_currency` on a date; a report uses the latest rate on or before
the day it needs (outlet time zone), and refuses with a 422 naming the missing pair
rather than guess.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from membership.errors import DomainError
from membership.extensions import db
from membership.ledger.models import FxRate
from membership.money import decimals


class MissingRate(DomainError):
    status, title, type_slug = 422, "Missing exchange rate", "missing-exchange-rate"


@dataclass(frozen=True)
class Rate:
    on_date: date
    currency: str
    base_currency: str
    rate: Decimal
    source: str


class RateBook:
    """Every stored rate a report may need, loaded in one query; lookups in memory.

    A three-year converted report asks for a rate per day and currency: thousands of
    one-row queries otherwise (they were most of its time at 100k readers)."""

    def __init__(self, currencies: set[str], base_currency: str, through: date) -> None:
        self.base = base_currency
        self.by_currency: dict[str, list[Rate]] = {}
        rows = db.session.scalars(
            select(FxRate).where(FxRate.currency.in_(sorted(currencies - {base_currency})),
                                 FxRate.base_currency == base_currency, FxRate.on_date <= through)
            .order_by(FxRate.currency, FxRate.on_date))
        for row in rows:
            self.by_currency.setdefault(row.currency, []).append(
                Rate(row.on_date, row.currency, row.base_currency, Decimal(row.rate), row.source))
        self.days = {c: [r.on_date for r in rates] for c, rates in self.by_currency.items()}

    def on(self, day: date, currency: str) -> Rate:
        """The latest rate on or before `day` (1 for the base currency itself)."""
        if currency == self.base:
            return Rate(day, currency, self.base, Decimal(1), "identity")
        found = bisect_right(self.days.get(currency, []), day)
        if not found:
            raise MissingRate(f"no {currency}->{self.base} rate on or before {day.isoformat()}; "
                              f"load one with `flask fx import`")
        return self.by_currency[currency][found - 1]


def convert_minor(amount_minor: int, rate: Rate) -> int:
    """Minor units of `rate.currency` as minor units of the base, rounded half up
    (currencies with 0, 2 or 3 decimals convert through their major units)."""
    major = Decimal(amount_minor).scaleb(-decimals(rate.currency))
    base_minor = (major * rate.rate).scaleb(decimals(rate.base_currency))
    return int(base_minor.quantize(Decimal(1), rounding=ROUND_HALF_UP))
