"""Report periods are whole days in the outlet's time zone (months close there, REVENUE.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from membership.ledger.journal import outlet_zone


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the outlet's zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=outlet_zone()).astimezone(UTC)
