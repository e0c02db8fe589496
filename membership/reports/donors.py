"""Donors (REVENUE.md report 6): who gave in a period compared with the period before,
how much, how much of it recurs; and the year-end giving statements as one CSV.

Definitions (version 1)
- Gift: a Payment of stream one_time_donation or recurring_donation with a reader, paid
  in the period (outlet time zone), that is neither fully refunded (succeeded refunds >=
  gross) nor lost in a dispute (a dispute with status "lost"). A gift's amount is its
  gross minus succeeded partial refunds (Stripe fees are not subtracted). Memberships
  and "other" payments are never gifts. Open or won disputes leave the gift standing.
  Refunds count whenever they happen, as on the mailed statements: a refund made later
  removes the gift from the period it was given in, so a re-run can lower old numbers.
- Periods: start and end are first days of months (a year is twelve months); the
  previous period is the same number of whole calendar months just before start
  (2026 is compared with 2025, March 2026 with February 2026). Calendar months rather
  than days, so a leap year is compared with a whole year.
- Per currency (a reader giving in two currencies is a donor in each): donors = readers
  with a gift in the period; retained = gave in the previous period and in this one;
  new = first gift ever (in that currency) in this period; reactivated = gave before
  the previous period, not in it, and in this one; lapsed = gave in the previous period,
  not in this one. So donors = new + retained + reactivated, and
  previous_donors - lapsed + new + reactivated = donors.
- recurring share = recurring_donation amount / all gift amount in the period, with
  numerator and denominator; the percent is a string with one decimal, half up ("12.5"),
  null when nothing was given.
- average gift = amount / gifts; median gift = median of the individual gifts' amounts;
  with an even count, the mean of the two middle gifts. Both rounded half up to a whole
  minor unit (integers, like all money here); null without gifts.
- gross = sum of gift amounts; benefit = fair-market value of benefits, capped per gift
  at its amount; deductible = gross - benefit (0 for a for-profit outlet, as receipts say).

Year-end statements: the mailed notice's numbers, from the same query the January
scheduler uses (mail/statements.py `statement_totals`), not the donor definition above:
per reader and currency, every non-"other" payment of the year (memberships too, their
benefits subtracted) net of succeeded refunds, fully refunded and charged-back payments
left out, readers not erased, totals above zero; the deductible part and its wording
come from mail/receipts.py's tax_statement.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Numeric, Select, Subquery, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from membership.billing.giving import statement_totals, tax_statement
from membership.billing.models import Dispute, Payment, Refund
from membership.enums import Stream
from membership.extensions import db
from membership.reports.periods import day_start, without_jit

NAME, VERSION = "donors", 1
STATEMENTS_NAME = "donor-statements"
DONATION_STREAMS = (Stream.ONE_TIME_DONATION, Stream.RECURRING_DONATION)


@dataclass(frozen=True)
class Share:
    numerator_minor: int
    denominator_minor: int
    percent: str | None


@dataclass(frozen=True)
class CurrencyDonors:
    currency: str
    donors: int
    new: int
    retained: int
    reactivated: int
    lapsed: int
    previous_donors: int
    gifts: int
    gross_minor: int
    benefit_minor: int
    deductible_minor: int
    recurring_share: Share
    average_gift_minor: int | None
    median_gift_minor: int | None


@dataclass(frozen=True)
class DonorReport:
    start: date
    end: date
    previous_start: date
    previous_end: date
    currencies: list[CurrencyDonors]


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The same number of whole months just before `start` (both are first days)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    index = start.year * 12 + start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1), start


def donors(start: date, end: date) -> DonorReport:
    previous_start, _ = previous_period(start, end)
    start_at, end_at = day_start(start), day_start(end)
    if db.session.get_bind().dialect.name == "postgresql":
        without_jit()
        counts, amounts, medians = _one_pass(_gifts(end_at).cte("gifts"), day_start(previous_start), start_at)
    else:
        gifts = _gifts(end_at).subquery()
        counts = _donor_counts(gifts, day_start(previous_start), start_at)
        amounts = _amounts(gifts, start_at)
        medians = median_by_currency(gifts.c.currency, gifts.c.amount, gifts.c.paid_at >= start_at)
    for_profit = current_app.config["SETTINGS"].fiscal_status == "for_profit"
    currencies = [_currency_row(c, counts[c], amounts.get(c, (0, 0, 0, 0)), medians.get(c), for_profit)
                  for c in sorted(counts)]
    return DonorReport(start, end, previous_start, start, currencies)


def _sum_per_payment(amount: Any, payment_id: Any, condition: ColumnElement[bool]) -> Subquery:
    """Refunds or disputes summed per payment (a payment may have several)."""
    return (select(payment_id.label("payment_id"), func.sum(amount).label("amount"))
            .where(condition).group_by(payment_id).subquery())


def _refunded() -> Subquery:
    return _sum_per_payment(Refund.amount_minor, Refund.payment_id, Refund.status == "succeeded")


def _lost() -> Subquery:
    return _sum_per_payment(Dispute.amount_minor, Dispute.payment_id, Dispute.status == "lost")


def _gifts(before: datetime) -> Select[Any]:
    """Every gift (see the definition) paid before `before`, with its amount and capped benefit."""
    refunded, lost = _refunded(), _lost()
    amount = Payment.gross_minor - func.coalesce(refunded.c.amount, 0)
    benefit = case((Payment.benefit_value_minor > amount, amount),
                   (Payment.benefit_value_minor < 0, 0), else_=Payment.benefit_value_minor)
    return (select(Payment.reader_id, Payment.currency, Payment.stream, Payment.paid_at,
                   amount.label("amount"), benefit.label("benefit"))
            .outerjoin(refunded, refunded.c.payment_id == Payment.id)
            .outerjoin(lost, lost.c.payment_id == Payment.id)
            .where(Payment.stream.in_(DONATION_STREAMS), Payment.reader_id.is_not(None), Payment.paid_at < before,
                   amount > 0, lost.c.amount.is_(None)))


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _donor_counts(gifts: Any, previous_at: datetime, start_at: datetime) -> dict[str, tuple[int, ...]]:
    """Per currency: (donors, new, retained, reactivated, lapsed, previous donors)."""
    return {row[0]: tuple(int(v or 0) for v in row[1:])
            for row in db.session.execute(_counts_query(gifts, previous_at, start_at))}


def _counts_query(gifts: Any, previous_at: datetime, start_at: datetime) -> Select[Any]:
    """One GROUP BY reader for the flags and one GROUP BY currency to count them."""
    g = gifts.c
    readers = (select(g.currency, g.reader_id,
                      func.max(_flag(g.paid_at >= start_at)).label("now"),
                      func.max(_flag(and_(g.paid_at >= previous_at, g.paid_at < start_at))).label("prev"),
                      func.max(_flag(g.paid_at < previous_at)).label("earlier"))
               .group_by(g.currency, g.reader_id).subquery())
    r = readers.c
    now, prev, earlier = r.now == 1, r.prev == 1, r.earlier == 1
    figures = [now, and_(now, ~prev, ~earlier), and_(now, prev), and_(now, ~prev, earlier), and_(~now, prev), prev]
    return (select(r.currency, *(func.sum(_flag(f)) for f in figures))
            .where(or_(now, prev)).group_by(r.currency))


def _amounts(gifts: Any, start_at: datetime) -> dict[str, tuple[int, int, int, int]]:
    """Per currency: (gifts, amount, recurring amount, benefit) of the period."""
    return {c: (int(n), int(total or 0), int(rec or 0), int(ben or 0))
            for c, n, total, rec, ben in db.session.execute(_amounts_query(gifts, start_at))}


def _amounts_query(gifts: Any, start_at: datetime) -> Select[Any]:
    g = gifts.c
    recurring = case((g.stream == Stream.RECURRING_DONATION, g.amount), else_=0)
    return (select(g.currency, func.count(), func.sum(g.amount), func.sum(recurring), func.sum(g.benefit))
            .where(g.paid_at >= start_at).group_by(g.currency))


def _one_pass(gifts: Any, previous_at: datetime, start_at: datetime) -> tuple[
        dict[str, tuple[int, ...]], dict[str, tuple[int, int, int, int]], dict[str, Decimal]]:
    """PostgreSQL: the counts, amounts and medians in one statement over one CTE of the
    gifts, so the gifts (refunds and disputes joined to every donation payment before
    the end: ~150k rows over three years at 100k readers) are found once, not three
    times. Rows are tagged by part and padded to one shape; the numbers are the three
    queries' own."""
    g = gifts.c
    counts = _counts_query(gifts, previous_at, start_at).subquery()
    amounts = _amounts_query(gifts, start_at).subquery()
    middle = (select(g.currency, cast(func.percentile_cont(0.5).within_group(g.amount), Numeric).label("m"))
              .where(g.paid_at >= start_at).group_by(g.currency)).subquery()
    none = cast(null(), Numeric).label("m")
    zero = [literal(0)] * 2
    parts = union_all(
        select(literal("counts").label("part"), *counts.c, none),
        select(literal("amounts"), *amounts.c, *zero, none),
        select(literal("median"), middle.c.currency, *([literal(0)] * 6), middle.c.m))
    out_counts, out_amounts, medians = {}, {}, {}
    for part, currency, *values, m in db.session.execute(parts):
        if part == "counts":
            out_counts[currency] = tuple(int(v or 0) for v in values)
        elif part == "amounts":
            n, total, rec, ben = values[:4]
            out_amounts[currency] = (int(n), int(total or 0), int(rec or 0), int(ben or 0))
        else:
            medians[currency] = Decimal(m)
    return out_counts, out_amounts, medians


def median_by_currency(currency: Any, value: Any, condition: ColumnElement[bool]) -> dict[str, Decimal]:
    """The median of `value` per currency: percentile_cont in PostgreSQL; SQLite has no
    ordered-set aggregate, so there the ordered values come back and Python picks."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Of integers, percentile_cont is a double that is whole or .5: exact as numeric.
        middle = cast(func.percentile_cont(0.5).within_group(value), Numeric)
        query = select(currency, middle).where(condition).group_by(currency)
        return {c: Decimal(m) for c, m in db.session.execute(query)}
    ordered: dict[str, list[int]] = defaultdict(list)
    for c, v in db.session.execute(select(currency, value).where(condition).order_by(currency, value)):
        ordered[c].append(int(v))
    return {c: median(values) for c, values in ordered.items()}


def median(ordered: list[int]) -> Decimal:
    """Of sorted values: the middle one, or the mean of the two middle ones."""
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle])
    return Decimal(ordered[middle - 1] + ordered[middle]) / 2


def whole(value: Decimal) -> int:
    """Half up to a whole minor unit."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(numerator: int, denominator: int) -> Share:
    if not denominator:
        return Share(numerator, denominator, None)
    percent = (Decimal(numerator * 100) / denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Share(numerator, denominator, str(percent))


def _currency_row(currency: str, counts: tuple[int, ...], amounts: tuple[int, int, int, int],
                  median_value: Decimal | None, for_profit: bool) -> CurrencyDonors:
    donors_, new, retained, reactivated, lapsed, previous = counts
    gifts, gross, recurring, benefit = amounts
    return CurrencyDonors(
        currency, donors_, new, retained, reactivated, lapsed, previous, gifts, gross, benefit,
        0 if for_profit else gross - benefit, share(recurring, gross),
        whole(Decimal(gross) / gifts) if gifts else None,
        whole(median_value) if median_value is not None else None)


@dataclass(frozen=True)
class Statement:
    """One mailed year-end statement: a reader's year in one currency."""

    reader_id: int
    email: str
    name: str
    currency: str
    payments: int
    paid_minor: int
    benefit_minor: int
    deductible_minor: int
    deductible: bool
    paid: str
    benefit_value: str
    deductible_amount: str


def statements(year: int) -> list[Statement]:
    """The statements the January scheduler records for `year`, in its order."""
    return [_statement(*row) for row in db.session.execute(statement_totals(year)) if int(row[4] or 0) > 0]


def _statement(reader_id: int, email: str, name: str, currency: str, paid: Any, benefit: Any,
               count: Any) -> Statement:
    """Worded by tax_statement, like the mail; the deductible minor units by its rule."""
    paid_minor, benefit_minor = int(paid), int(benefit or 0)
    tax = tax_statement(current_app.config["SETTINGS"], paid_minor, benefit_minor, currency)
    deductible_minor = paid_minor - max(0, min(benefit_minor, paid_minor)) if tax.deductible else 0
    return Statement(reader_id, email, name, currency, int(count), paid_minor, benefit_minor, deductible_minor,
                     tax.deductible, tax.paid, tax.benefit_value, tax.deductible_amount)
