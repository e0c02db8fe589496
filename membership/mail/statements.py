"""Year-end giving statements: in January, one per donor per currency for last year.

Totals come from Payment rows (one-time and recurring donations and memberships,
whose benefits' fair-market value is subtracted for the deductible part), summed in
SQL. What counts (`counted_payments`, shared with the statement's line items and the
finance report's statements CSV so all three agree to the cent): each payment net of
its succeeded refunds; a payment refunded in full or lost to a chargeback is no gift
and is left out with its benefit; a benefit is never more than what was kept. The
year runs in the outlet's time zone: a gift made on 31 December evening in California
belongs to that year. A statement left unsent at the end of January raises a staff
alert like a renewal-law notice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, Subquery, case, func, select

from membership.billing.models import Dispute, Payment, Refund
from membership.config import Settings
from membership.enums import Stream
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.scheduling import Candidate, record_missing

KIND = "year_end_statement"


def year_bounds(year: int, settings: Settings | None = None) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of `year` in the outlet's time zone, as UTC instants."""
    s: Settings = settings or current_app.config["SETTINGS"]
    tz = ZoneInfo(s.outlet_timezone)
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


def counted_payments(start: datetime, end: datetime) -> Subquery:
    """The payments of [start, end) a statement counts, with `net` and capped `benefit`."""
    refunded = (
        select(Refund.payment_id, func.sum(Refund.amount_minor).label("amount"))
        .where(Refund.status == "succeeded").group_by(Refund.payment_id).subquery()
    )
    lost = select(Dispute.id).where(Dispute.payment_id == Payment.id, Dispute.status == "lost").exists()
    net = Payment.gross_minor - func.coalesce(refunded.c.amount, 0)
    benefit = case((Payment.benefit_value_minor > net, net), else_=Payment.benefit_value_minor)
    return (
        select(Payment.id, Payment.reader_id, Payment.currency, Payment.paid_at, Payment.stream,
               net.label("net"), benefit.label("benefit"))
        .outerjoin(refunded, refunded.c.payment_id == Payment.id)
        .where(Payment.stream != Stream.OTHER, Payment.paid_at >= start, Payment.paid_at < end, net > 0, ~lost)
        .subquery()
    )


def statement_totals(year: int, settings: Settings | None = None) -> Select[Any]:
    """Per reader and currency (not erased): reader_id, email, name, currency, paid, benefit,
    number of payments; ordered by reader and currency."""
    counted = counted_payments(*year_bounds(year, settings))
    return (
        select(counted.c.reader_id, Reader.email, Reader.name, counted.c.currency, func.sum(counted.c.net),
               func.sum(counted.c.benefit), func.count(counted.c.id))
        .join(Reader, Reader.id == counted.c.reader_id)
        .where(Reader.deleted_at.is_(None))
        .group_by(counted.c.reader_id, Reader.email, Reader.name, counted.c.currency)
        .order_by(counted.c.reader_id, counted.c.currency)
    )


def find_year_end_statements(now: datetime, limit: int = 5000) -> int:
    """Record missing statements for last year; only runs in January (outlet time)."""
    settings = current_app.config["SETTINGS"]
    tz = ZoneInfo(settings.outlet_timezone)
    local = now.astimezone(tz)
    if local.month != 1:
        return 0
    year = local.year - 1
    closes = datetime(local.year, 2, 1, tzinfo=tz).astimezone(UTC)
    created, batch = 0, list[Candidate]()
    for reader_id, email, _name, currency, total, benefit, count in db.session.execute(statement_totals(year, settings)):
        if int(total or 0) <= 0 or reader_id is None:
            continue
        context = {"reader_id": reader_id, "year": year, "currency": currency, "total_minor": int(total),
                   "benefit_minor": int(benefit or 0), "count": int(count)}
        batch.append(Candidate(f"{reader_id}:{year}:{currency}", email, reader_id, context, now, closes))
        if len(batch) >= 500:
            created += record_missing(KIND, batch)
            batch = []
        if created >= limit:
            return created
    return created + record_missing(KIND, batch)
