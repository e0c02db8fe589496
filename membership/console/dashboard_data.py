"""The finance dashboard's figures, gathered from the finance reports' public functions.

Why only the reports: the dashboard must say what the staff API and its CSVs say, to
the cent, so it never computes a figure a report already defines; it slices the
range into months (or quarters, for donors) and calls the same functions the API
calls. The monthly MRR roll-forwards add up to the range's exactly (movements are
converted at their own day's rate and the month ends are the next month's starts),
and the tests check it. Two things are the console's own, and say so on the page:
cash and deferred amounts in the "converted" view (each month at its last day's
stored rate, reports/fx.py), and donor counts summed over currencies there.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from membership.billing.models import Price
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import next_month
from membership.ledger.models import FxRate
from membership.reports import cash, churn, deferred, donors, mrr_rollforward
from membership.reports.fx import MissingRate, RateBook, convert_minor
from membership.reports.mrr_rollforward import RollForward

CONVERTED = "converted"
DEFAULT_MONTHS = 12
MAX_MONTHS = 36  # the reports' speed bar is three years (reports/schemas.py MAX_DAYS)
FALLBACK_BASE = "USD"


@dataclass(frozen=True)
class Filters:
    """[start, end): first days of months. `view` is a currency code or CONVERTED (every
    currency in `base`, the outlet's main currency)."""

    start: date
    end: date
    view: str
    base: str

    @property
    def months(self) -> list[date]:
        return month_list(self.start, self.end)

    @property
    def converted(self) -> bool:
        return self.view == CONVERTED

    @property
    def unit(self) -> str:
        return self.base if self.converted else self.view


def month_list(start: date, end: date) -> list[date]:
    out, month = [], start
    while month < end:
        out.append(month)
        month = next_month(month)
    return out


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def main_currency() -> str:
    """The currency the stored exchange rates are quoted in (what finance converts to);
    USD when there are none yet."""
    found = db.session.scalar(select(FxRate.base_currency).group_by(FxRate.base_currency)
                              .order_by(func.count().desc(), FxRate.base_currency).limit(1))
    return found or FALLBACK_BASE


@dataclass
class MrrMonth:
    month: date
    end_minor: int
    movements: dict[str, int]  # every kind of the roll-forward (and "fx" when converted)


@dataclass
class MrrData:
    months: list[MrrMonth]
    total: RollForward  # the range's roll-forward: what /api/staff/reports/mrr-rollforward answers
    start_minor: int
    end_minor: int
    movements: dict[str, int]
    missing_rate: str | None = None


def mrr(filters: Filters, stream: Stream = Stream.MEMBERSHIP) -> MrrData:
    """Per month: MRR at the month's end and its movements, in the view's currency."""
    base = filters.base if filters.converted else None
    try:
        total = mrr_rollforward.roll_forward(stream, filters.start, filters.end, base)
        monthly = [mrr_rollforward.roll_forward(stream, m, next_month(m), base) for m in filters.months]
    except MissingRate as exc:
        total = mrr_rollforward.roll_forward(stream, filters.start, filters.end)
        empty = dict.fromkeys(mrr_rollforward.KINDS, 0)
        return MrrData([], total, 0, 0, empty, missing_rate=exc.detail)
    start, end, moved = _pick(total, filters)
    return MrrData([MrrMonth(r.start, *_pick(r, filters)[1:]) for r in monthly], total, start, end, moved)


def _pick(report: RollForward, filters: Filters) -> tuple[int, int, dict[str, int]]:
    """(start, end, movements) of the view: one currency's block, or the converted one."""
    if filters.converted:
        c = report.converted
        assert c is not None  # asked with a base currency
        return c.start_minor, c.end_minor, {**c.movements, "fx": c.fx_minor}
    for block in report.currencies:
        if block.currency == filters.view:
            return block.start_minor, block.end_minor, dict(block.movements)
    return 0, 0, dict.fromkeys(mrr_rollforward.KINDS, 0)


def churn_report(filters: Filters) -> churn.Churn:
    """Paying members at each month's ends, logo churn and annual renewals (all currencies:
    a reader is paying or not, whatever they pay in)."""
    return churn.churn(Stream.MEMBERSHIP, filters.start, filters.end)


@dataclass
class CashData:
    """Net sales per month and stream in the view's currency, and membership's own
    cash, recognised revenue and deferred balance per month."""

    streams: list[str]
    net_sales: dict[date, dict[str, int]]
    report: cash.CashSummary
    deferred_rows: list[deferred.MonthRollForward]
    membership_cash: dict[date, int] = field(default_factory=dict)
    recognized: dict[date, int] = field(default_factory=dict)
    deferred_closing: dict[date, int] = field(default_factory=dict)
    missing_rate: str | None = None


def cash_and_deferred(filters: Filters) -> CashData:
    report = cash.cash_summary(filters.start, filters.end)
    rows = deferred.roll_forward(filters.start, filters.end)
    data = CashData(sorted({c.stream for c in report.cells}), defaultdict(Counter), report, rows)
    try:
        to_view = _converter(filters, {c.currency for c in report.cells} | {r.currency for r in rows})
    except MissingRate as exc:
        data.missing_rate = exc.detail
        return data
    for c in report.cells:
        if c.currency == filters.view or filters.converted:
            amount = to_view(c.figures.net_sales_minor, c.currency, c.period)
            data.net_sales[c.period][c.stream] += amount
            if c.stream == Stream.MEMBERSHIP.value:
                data.membership_cash[c.period] = data.membership_cash.get(c.period, 0) + amount
    for r in rows:
        if r.stream == Stream.MEMBERSHIP.value and (r.currency == filters.view or filters.converted):
            data.recognized[r.period] = data.recognized.get(r.period, 0) + to_view(r.recognized_minor, r.currency,
                                                                                   r.period)
            data.deferred_closing[r.period] = (data.deferred_closing.get(r.period, 0)
                                               + to_view(r.closing_minor, r.currency, r.period))
    return data


def _converter(filters: Filters, currencies: set[str]) -> Callable[[int, str, date], int]:
    """amount, currency, month -> amount in the view: unchanged for one currency; in the
    converted view at the stored rate on the month's last day (raises MissingRate)."""
    if not filters.converted:
        return lambda amount, _currency, _month: amount
    book = RateBook(currencies, filters.base, filters.end - timedelta(days=1))

    def convert(amount: int, currency: str, month: date) -> int:
        return convert_minor(amount, book.on(next_month(month) - timedelta(days=1), currency))

    for month in filters.months:  # fail early, before half a chart is drawn
        for currency in currencies:
            book.on(next_month(month) - timedelta(days=1), currency)
    return convert


@dataclass(frozen=True)
class DonorPeriod:
    start: date
    end: date
    report: donors.DonorReport


def donor_periods(filters: Filters) -> tuple[list[DonorPeriod], donors.DonorReport]:
    """Quarters (months when the range is under six) each against the one before, and
    the whole range against as many months before it: the API's figure."""
    step = 3 if len(filters.months) >= 6 else 1
    chunks = [(m, min(add_months(m, step), filters.end)) for m in filters.months[::step]]
    return ([DonorPeriod(a, b, donors.donors(a, b)) for a, b in chunks], donors.donors(filters.start, filters.end))


def donor_counts(report: donors.DonorReport, filters: Filters) -> dict[str, int]:
    """new, retained, reactivated, lapsed, donors in the view (summed over currencies when
    converted: a reader giving in two currencies counts in each, as the report counts)."""
    keys = ("new", "retained", "reactivated", "lapsed", "donors", "previous_donors", "gifts")
    out = dict.fromkeys(keys, 0)
    for c in report.currencies:
        if filters.converted or c.currency == filters.view:
            for k in keys:
                out[k] += getattr(c, k)
    return out


def currencies_in_use(base: str) -> list[str]:
    """The catalogue's currencies and the main one (the view choices; the prices table
    is small, the movements table is not)."""
    return sorted(set(db.session.scalars(select(Price.currency).distinct())) | {base})
