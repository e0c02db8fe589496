"""The monthly cash summary as an operation (JSON or CSV, finance and admin roles)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response

from membership.api import operation
from membership.reports import cash
from membership.reports.blueprint import bp
from membership.reports.cash_schemas import CashCellOut, CashSummaryOut, CashTotalsOut
from membership.reports.csv_out import csv_response
from membership.reports.schemas import PeriodQuery
from membership.staff.auth import require_permission

TOTAL = "total"  # the CSV's period and stream on a currency's totals row


@operation(bp, "/cash-summary", "GET", summary="Monthly cash summary per stream and currency",
           tag="reports", query=PeriodQuery, response=CashSummaryOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def cash_summary(query: PeriodQuery) -> CashSummaryOut | Response:
    """Accounting months whose first day is in [start, end), from the journal; per
    currency net_received is the sum of the balance transactions' net."""
    report = cash.cash_summary(query.start, query.end)
    if query.format == "csv":
        return csv_response(cash.NAME, cash.VERSION, query.start, query.end,
                            ("period", "stream", "currency", *cash.FIGURES), _csv_rows(report))
    return CashSummaryOut(
        report=cash.NAME, version=cash.VERSION, start=report.start, end=report.end,
        cells=[CashCellOut(period=c.period, stream=c.stream, currency=c.currency, **asdict(c.figures))
               for c in report.cells],
        totals=[CashTotalsOut(currency=t.currency, **asdict(t.figures)) for t in report.totals],
    )


def _csv_rows(report: cash.CashSummary) -> list[tuple[Any, ...]]:
    """One row per cell, then one totals row per currency (period and stream `total`)."""
    rows = [(c.period.isoformat(), c.stream, c.currency, *asdict(c.figures).values()) for c in report.cells]
    return rows + [(TOTAL, TOTAL, t.currency, *asdict(t.figures).values()) for t in report.totals]
