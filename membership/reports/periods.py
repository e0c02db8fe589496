"""Report periods are whole days in the outlet's time zone (months close there, REVENUE.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Date, cast, func, text

from membership.extensions import db
from membership.ledger.journal import local_date, outlet_zone


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the outlet's zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=outlet_zone()).astimezone(UTC)


def local_day(column: Any, month: bool = False) -> Any:
    """The outlet-local day (or month) of a timestamp column, computed by PostgreSQL so
    reports can GROUP BY it; other databases (SQLite has no time zones) return the
    timestamp for `as_local_day` to convert in Python."""
    if db.session.get_bind().dialect.name != "postgresql":
        return column
    local = func.timezone(outlet_zone().key, column)
    return cast(func.date_trunc("month", local) if month else local, Date)


def as_local_day(value: date | datetime) -> date:
    """What `local_day` selected, as a date on every database."""
    return local_date(value) if isinstance(value, datetime) else value


def without_jit() -> None:
    """Turn PostgreSQL's JIT off for the report's transaction only: at 100k readers it
    spent longer compiling these one-shot aggregate queries (many-branch CASEs, wide
    GROUP BYs) than running them (0.1-0.8 s each). SQLite has none."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


@contextmanager
def index_probes(few: bool) -> Iterator[None]:
    """When the live part of a report is `few` months (the roll-ups hold the rest), have
    PostgreSQL probe the ledger's indexes instead of scanning it whole: its estimate for
    one month's ~50k groups picks a parallel full scan of 4.3M lines (~2x slower at
    100k readers). A scan stays allowed for long live ranges (no roll-ups yet)."""
    if not few or db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        yield
    finally:
        db.session.execute(text("SET LOCAL enable_seqscan = on"))
