"""Roll-up tables: closed months of the finance reports, summed once (docs/reports.md).

Each table holds exactly what its report would compute live for one closed month, so
a report reads these rows for the closed months of its range, computes the others
live, and combines them (rollup.py says when a month counts as closed and current).

- `report_rollups`: which months of a source are rolled ((source, month) once);
  `journal` feeds the cash summary and the deferred roll-forward (keyed by the
  journal's `period`), `schedules` the recognition waterfall (keyed by the outlet-local
  month of the payment's `paid_at`).
- `report_dirty`: a month a late change touched after it was rolled. Written by
  PostgreSQL triggers (migration 0009), never by application code; plain inserts with
  no unique key, so concurrent postings never wait on each other. A marked month is
  read live until the next roll-up re-rolls it and deletes the marks it saw.
- Money columns are signed sums in minor units, as the live queries return them.
- `report_export_journals` / `report_export_months`: not sums but a copy of each rolled
  month's journal-export journals, clustered in export order (journal_store.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, UTCDateTime, currency, intpk, optional_timestamp, timestamp

SOURCE = String(16)
STREAM = String(32)  # the stored Stream value, or NULL for an unattributed line


class ReportRollup(Base):
    __tablename__ = "report_rollups"

    source: Mapped[str] = mapped_column(SOURCE, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[timestamp]


class ReportDirty(Base):
    __tablename__ = "report_dirty"

    id: Mapped[intpk]
    source: Mapped[str] = mapped_column(SOURCE)
    month: Mapped[date | None] = mapped_column(Date)  # journal: the period itself
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # schedules: paid_at (its local month is the key)
    marked_at: Mapped[optional_timestamp]


class ReportCashCell(Base):
    """cash.py `_cells` for one period: per kind, stream and currency."""

    __tablename__ = "report_cash_cells"
    __table_args__ = (Index("ix_report_cash_cells_period", "period"),)

    id: Mapped[intpk]
    period: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str | None] = mapped_column(STREAM)
    currency: Mapped[currency]
    clearing_minor: Mapped[int] = mapped_column(BigInteger)
    processor_fees_minor: Mapped[int] = mapped_column(BigInteger)
    dispute_fees_minor: Mapped[int] = mapped_column(BigInteger)
    groups: Mapped[int] = mapped_column(Integer)
    payers: Mapped[int] = mapped_column(Integer)


class ReportCashPayer(Base):
    """A reader with a charge in a currency: bit m-1 of `months` set for each rolled
    month m of `year` with one. Distinct payers over many months cannot be summed from
    per-month counts; one row per reader, currency and year can be counted instead."""

    __tablename__ = "report_cash_payers"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # no FK: a copy, rebuilt on re-roll
    months: Mapped[int] = mapped_column(Integer)


class ReportDeferredMove(Base):
    """deferred.py `_sums` for one period: the deferred-revenue lines per currency, stream, kind."""

    __tablename__ = "report_deferred_moves"
    __table_args__ = (Index("ix_report_deferred_moves_period", "period"),)

    id: Mapped[intpk]
    period: Mapped[date] = mapped_column(Date)
    currency: Mapped[currency]
    stream: Mapped[str | None] = mapped_column(STREAM)
    kind: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class ReportWaterfallRow(Base):
    """deferred.py's waterfall row of one billing month, currency and stream, without
    what recognition changes every night (recognised/deferred: read live, see deferred.py)."""

    __tablename__ = "report_waterfall_rows"
    __table_args__ = (Index("ix_report_waterfall_rows_billing_month", "billing_month"),)

    id: Mapped[intpk]
    billing_month: Mapped[date] = mapped_column(Date)
    currency: Mapped[currency]
    stream: Mapped[str] = mapped_column(STREAM)
    lines: Mapped[int] = mapped_column(Integer)
    billed_minor: Mapped[int] = mapped_column(BigInteger)
    reversed_minor: Mapped[int] = mapped_column(BigInteger)


class ReportWaterfallCell(Base):
    """One cell of a rolled waterfall row: what the row recognises in one service month."""

    __tablename__ = "report_waterfall_cells"
    __table_args__ = (Index("ix_report_waterfall_cells_billing_month", "billing_month"),)

    id: Mapped[intpk]
    billing_month: Mapped[date] = mapped_column(Date)
    currency: Mapped[currency]
    stream: Mapped[str] = mapped_column(STREAM)
    service_month: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class ReportWaterfallPending(Base):
    """A schedule of a rolled billing month that recognition had not finished when it was
    rolled: only these still move (the others recognised exactly their net), so a rolled
    row's recognised/deferred split is read live from them alone, by primary key."""

    __tablename__ = "report_waterfall_pending"
    __table_args__ = (Index("ix_report_waterfall_pending_billing_month", "billing_month"),)

    schedule_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    billing_month: Mapped[date] = mapped_column(Date)


class ReportMrrCell(Base):
    """One rolled month of MRR movements for churn and cohorts (churn_rollup.py says
    what each `measure` holds); the columns a measure does not key on are NULL."""

    __tablename__ = "report_mrr_cells"
    __table_args__ = (Index("ix_report_mrr_cells_stream_month", "stream", "month"),)

    id: Mapped[intpk]
    stream: Mapped[str] = mapped_column(STREAM)
    month: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(16))
    cohort: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str | None] = mapped_column(String(32))
    interval: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str | None] = mapped_column(String(3))
    value: Mapped[int] = mapped_column(BigInteger)


# Arrays on PostgreSQL (the only database that reads these tables); SQLite has the
# tables for a uniform schema and never writes them (rollup.py), so JSON stands in.
SMALLINTS = JSON().with_variant(ARRAY(SmallInteger), "postgresql")
BIGINTS = JSON().with_variant(ARRAY(BigInteger), "postgresql")


class ReportExportJournal(Base):
    """One journal of a rolled month, in one currency, as the journal export lists it:
    `seq` is its place in the month's export order (occurred_at, journal id), its lines
    are the arrays (ordered by ledger entry id). Account names, the reader's name and
    the CSV text are applied when read (journal_store.py), so settings, renames and
    erasure stay live."""

    __tablename__ = "report_export_journals"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    journal_id: Mapped[int] = mapped_column(BigInteger)  # no FK: a copy, rebuilt on re-roll
    reader_id: Mapped[int | None] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)  # the journal date (accounting.journal_date) in `zone`
    memo: Mapped[str] = mapped_column(Text)
    accounts: Mapped[list[int]] = mapped_column(SMALLINTS)  # 1-based into journal_store.ACCOUNT_KEYS
    amounts: Mapped[list[int]] = mapped_column(BIGINTS)


class ReportExportMonth(Base):
    """A rolled month's copy in one currency: what it was built with (`layout`: the
    outlet zone of its dates and the account key list of its `accounts`) and whether
    the live export refuses it (`refused`: a journal unbalanced or without an export
    account), in which case it is read live, so the same 409 is raised."""

    __tablename__ = "report_export_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    layout: Mapped[str] = mapped_column(String(128))
    refused: Mapped[bool] = mapped_column(Boolean)
