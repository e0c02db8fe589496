"""MRR roll-forward (REVENUE.md report 4): MRR at the start of a period, each kind of
movement during it and MRR at its end, per currency, so that start + movements = end
to the cent; and, converted into a base currency, a separate FX line so that the
converted start + converted movements + FX = converted end, also exactly.

The period is [start, end) in whole days of the outlet's time zone. Amounts are net
MRR (billing/discounts.py); discount MRR at both ends is shown beside it, so the
full-price figure is their sum. Conversion: MRR at the start at the start day's rate,
at the end at the end day's rate, each movement at its own day's rate (fx.py); the FX
line is what is left, i.e. the effect of rates moving on the MRR held.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from membership.billing.models import Subscription, SubscriptionEvent
from membership.enums import MrrMovement, Stream
from membership.extensions import db
from membership.identity.models import Reader
from membership.reports.fx import Rate, RateBook, convert_minor
from membership.reports.periods import as_local_day, day_start, local_day

NAME, VERSION = "mrr-rollforward", 1
KINDS = tuple(k.value for k in MrrMovement if k is not MrrMovement.FX)


@dataclass(frozen=True)
class CurrencyRollForward:
    currency: str
    start_minor: int
    movements: dict[str, int]  # every kind, zeros included
    end_minor: int
    discount_start_minor: int
    discount_end_minor: int


@dataclass(frozen=True)
class ConvertedRollForward:
    base_currency: str
    start_minor: int
    movements: dict[str, int]
    fx_minor: int
    end_minor: int
    rates: list[Rate]


@dataclass(frozen=True)
class RollForward:
    stream: Stream
    start: date
    end: date
    currencies: list[CurrencyRollForward]
    converted: ConvertedRollForward | None


def roll_forward(stream: Stream, start: date, end: date, base_currency: str | None = None) -> RollForward:
    start_at, end_at = day_start(start), day_start(end)
    opening, closing = _held_before(stream, start_at), _held_before(stream, end_at)
    moved: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    for currency, kind, delta in db.session.execute(
            select(SubscriptionEvent.currency, SubscriptionEvent.kind, func.sum(SubscriptionEvent.mrr_delta_minor))
            .where(SubscriptionEvent.stream == stream, SubscriptionEvent.occurred_at >= start_at,
                   SubscriptionEvent.occurred_at < end_at)
            .group_by(SubscriptionEvent.currency, SubscriptionEvent.kind)):
        moved[currency][MrrMovement(kind).value] += int(delta)
    currencies = sorted(set(opening) | set(closing) | set(moved))
    per_currency = [
        CurrencyRollForward(c, opening.get(c, (0, 0))[0], dict(moved[c]), closing.get(c, (0, 0))[0],
                            opening.get(c, (0, 0))[1], closing.get(c, (0, 0))[1])
        for c in currencies
    ]
    converted = _convert(per_currency, stream, start, end, base_currency) if base_currency else None
    return RollForward(stream, start, end, per_currency, converted)


@dataclass(frozen=True)
class MovementLine:
    """One movement behind a roll-forward number, with the reader it belongs to."""

    occurred_at: datetime
    kind: str
    currency: str
    mrr_delta_minor: int
    discount_delta_minor: int
    reader_id: int
    email: str
    subscription_id: int
    stripe_subscription_id: str


def movements(stream: Stream, start: date, end: date, kind: MrrMovement | None = None,
              currency: str | None = None, limit: int = 10_000) -> list[MovementLine]:
    """The drill-down: the movements of [start, end) (optionally one kind / currency),
    oldest first; per kind and currency they sum to the roll-forward's figure."""
    query = (select(SubscriptionEvent, Reader.email, Subscription.stripe_subscription_id)
             .join(Reader, Reader.id == SubscriptionEvent.reader_id)
             .join(Subscription, Subscription.id == SubscriptionEvent.subscription_id)
             .where(SubscriptionEvent.stream == stream, SubscriptionEvent.occurred_at >= day_start(start),
                    SubscriptionEvent.occurred_at < day_start(end)))
    if kind is not None:
        query = query.where(SubscriptionEvent.kind == kind)
    if currency is not None:
        query = query.where(SubscriptionEvent.currency == currency)
    query = query.order_by(SubscriptionEvent.occurred_at, SubscriptionEvent.id).limit(limit)
    return [MovementLine(e.occurred_at, e.kind.value, e.currency, e.mrr_delta_minor, e.discount_delta_minor,
                         e.reader_id, email, e.subscription_id, stripe_id)
            for e, email, stripe_id in db.session.execute(query)]


def _held_before(stream: Stream, at: datetime) -> dict[str, tuple[int, int]]:
    """Per currency: (MRR, discount MRR) from every movement before `at`."""
    rows = db.session.execute(
        select(SubscriptionEvent.currency, func.sum(SubscriptionEvent.mrr_delta_minor),
               func.sum(SubscriptionEvent.discount_delta_minor))
        .where(SubscriptionEvent.stream == stream, SubscriptionEvent.occurred_at < at)
        .group_by(SubscriptionEvent.currency))
    return {currency: (int(net or 0), int(discount or 0)) for currency, net, discount in rows}


def _convert(per_currency: list[CurrencyRollForward], stream: Stream, start: date, end: date,
             base: str) -> ConvertedRollForward:
    """Movements summed per currency, kind and outlet-local day in the database, each
    sum converted at its day's rate (rates from one RateBook query)."""
    day = local_day(SubscriptionEvent.occurred_at)
    sums = db.session.execute(
        select(SubscriptionEvent.currency, SubscriptionEvent.kind, day, func.sum(SubscriptionEvent.mrr_delta_minor))
        .where(SubscriptionEvent.stream == stream, SubscriptionEvent.occurred_at >= day_start(start),
               SubscriptionEvent.occurred_at < day_start(end))
        .group_by(SubscriptionEvent.currency, SubscriptionEvent.kind, day)).all()
    book = RateBook({c.currency for c in per_currency}, base, end)
    used: dict[tuple[date, str], Rate] = {}

    def rate(on: date, currency: str) -> Rate:
        found = book.on(on, currency)
        used[(found.on_date, currency)] = found
        return found

    movements = dict.fromkeys(KINDS, 0)
    for currency, kind, on, delta in sums:
        movements[MrrMovement(kind).value] += convert_minor(int(delta), rate(as_local_day(on), currency))
    opening = sum(convert_minor(c.start_minor, rate(start, c.currency)) for c in per_currency)
    closing = sum(convert_minor(c.end_minor, rate(end, c.currency)) for c in per_currency)
    fx = closing - opening - sum(movements.values())
    rates = sorted((r for r in used.values() if r.currency != base), key=lambda r: (r.currency, r.on_date))
    return ConvertedRollForward(base, opening, movements, fx, closing, rates)
