"""Summing closed months into the roll-up tables, with the reports' own live queries,
so a rolled month holds exactly what the live computation returns for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, insert, select

from membership.extensions import db
from membership.ledger.models import JournalTransaction
from membership.reports import cash, deferred, journal_store
from membership.reports.churn_rollup_build import build_mrr
from membership.reports.rollup import JOURNAL, MRR, SCHEDULES, runs
from membership.reports.rollup_models import (
    ReportCashCell,
    ReportCashPayer,
    ReportDeferredMove,
    ReportRollup,
    ReportWaterfallCell,
    ReportWaterfallPending,
    ReportWaterfallRow,
)

CASH_COLUMNS = ["period", "kind", "stream", "currency", "clearing_minor", "processor_fees_minor",
                "dispute_fees_minor", "groups", "payers"]


def build_journal(months: list[date]) -> None:
    """Cash cells and deferred movements of `months`; payer bitmasks of their years
    (a year's rows are rebuilt from all its rolled months: bits are not subtracted);
    the journal export's copy of their journals (journal_store.py)."""
    db.session.execute(delete(ReportCashCell).where(ReportCashCell.period.in_(months)))
    db.session.execute(insert(ReportCashCell).from_select(CASH_COLUMNS, cash.cells_query(months)))
    db.session.execute(delete(ReportDeferredMove).where(ReportDeferredMove.period.in_(months)))
    db.session.execute(insert(ReportDeferredMove).from_select(
        ["currency", "stream", "period", "kind", "amount_minor"], deferred.moves_query(
            JournalTransaction.period.in_(months))))
    for year in sorted({m.year for m in months}):
        rolled = set(db.session.scalars(select(ReportRollup.month).where(
            ReportRollup.source == JOURNAL, ReportRollup.month >= date(year, 1, 1),
            ReportRollup.month < date(year + 1, 1, 1))))
        in_year = sorted(rolled | {m for m in months if m.year == year})
        db.session.execute(delete(ReportCashPayer).where(ReportCashPayer.year == year))
        db.session.execute(insert(ReportCashPayer).from_select(
            ["currency", "reader_id", "year", "months"], cash.payer_months_query(in_year)))
    journal_store.build(months)


def build_schedules(months: list[date]) -> None:
    """Waterfall rows and cells of billing `months`, from the live rows of each run of
    consecutive months (one grouped query per run)."""
    db.session.execute(delete(ReportWaterfallRow).where(ReportWaterfallRow.billing_month.in_(months)))
    db.session.execute(delete(ReportWaterfallCell).where(ReportWaterfallCell.billing_month.in_(months)))
    db.session.execute(delete(ReportWaterfallPending).where(ReportWaterfallPending.billing_month.in_(months)))
    for first, after in runs(months):
        db.session.execute(insert(ReportWaterfallPending).from_select(
            ["schedule_id", "billing_month"], deferred.unfinished_query(first, after)))
        rows = deferred.live_rows(first, after).values()
        if not rows:
            continue
        db.session.execute(insert(ReportWaterfallRow), [
            {"billing_month": r.billing_month, "currency": r.currency, "stream": r.stream, "lines": r.lines,
             "billed_minor": r.billed_minor, "reversed_minor": r.reversed_minor} for r in rows])
        cells = [{"billing_month": r.billing_month, "currency": r.currency, "stream": r.stream, "service_month": m,
                  "amount_minor": amount} for r in rows for m, amount in r.cells.items()]
        if cells:
            db.session.execute(insert(ReportWaterfallCell), cells)


BUILDERS: dict[str, Callable[[list[date]], None]] = {JOURNAL: build_journal, SCHEDULES: build_schedules,
                                                    MRR: build_mrr}
