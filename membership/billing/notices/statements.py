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
from zoneinfo import ZoneInfo

from flask import current_app

from membership.billing.giving import statement_totals
from membership.billing.notices.scheduling import Candidate, record_missing
from membership.extensions import db

KIND = "year_end_statement"


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
