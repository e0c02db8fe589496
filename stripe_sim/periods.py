"""Billing-period arithmetic: calendar months/years anchored like Stripe's billing_cycle_anchor."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

DAY = 86400


def add_months(anchor: int, months: int) -> int:
    """Anchor + n months, clamping the day (Jan 31 + 1 month = Feb 28/29)."""
    d = datetime.fromtimestamp(anchor, tz=UTC)
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return int(d.replace(year=year, month=month, day=day).timestamp())


def period_end(anchor: int, interval: str, count: int, n: int) -> int:
    """End of the n-th period (n >= 1) counted from ``anchor``."""
    if interval == "month":
        return add_months(anchor, count * n)
    if interval == "year":
        return add_months(anchor, 12 * count * n)
    if interval == "week":
        return anchor + 7 * DAY * count * n
    return anchor + DAY * count * n


def next_midnight(ts: int) -> int:
    return (ts // DAY + 1) * DAY
