"""Year-end giving statements: in January, one per donor per currency for last year.

Totals come from Payment rows (one-time and recurring donations and memberships,
whose benefits' fair-market value is subtracted for the deductible part), net of
succeeded refunds, summed in SQL. The year runs in the outlet's time zone: a gift
made on 31 December evening in California belongs to that year. A statement left
unsent at the end of January raises a staff alert like a renewal-law notice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from membership.billing.models import Payment, Refund
from membership.config import Settings
from membership.enums import Stream
from membership.extensions import db
from membership.mail.scheduling import Candidate, record_missing
from membership.readers.models import Reader

KIND = "year_end_statement"


def year_bounds(year: int, settings: Settings | None = None) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of `year` in the outlet's time zone, as UTC instants."""
    s: Settings = settings or current_app.config["SETTINGS"]
    tz = ZoneInfo(s.outlet_timezone)
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


def find_year_end_statements(now: datetime, limit: int = 5000) -> int:
    """Record missing statements for last year; only runs in January (outlet time)."""
    settings = current_app.config["SETTINGS"]
    tz = ZoneInfo(settings.outlet_timezone)
    local = now.astimezone(tz)
    if local.month != 1:
        return 0
    year = local.year - 1
    start, end = year_bounds(year, settings)
    closes = datetime(local.year, 2, 1, tzinfo=tz).astimezone(UTC)
    refunded = (
        select(Refund.payment_id, func.sum(Refund.amount_minor).label("amount"))
        .where(Refund.status == "succeeded").group_by(Refund.payment_id).subquery()
    )
    stmt = (
        select(Payment.reader_id, Reader.email, Payment.currency,
               func.sum(Payment.gross_minor - func.coalesce(refunded.c.amount, 0)),
               func.sum(Payment.benefit_value_minor), func.count(Payment.id))
        .join(Reader, Reader.id == Payment.reader_id)
        .outerjoin(refunded, refunded.c.payment_id == Payment.id)
        .where(Payment.stream != Stream.OTHER, Payment.paid_at >= start, Payment.paid_at < end,
               Reader.deleted_at.is_(None))
        .group_by(Payment.reader_id, Reader.email, Payment.currency)
        .order_by(Payment.reader_id, Payment.currency)
    )
    created, batch = 0, list[Candidate]()
    for reader_id, email, currency, total, benefit, count in db.session.execute(stmt):
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
