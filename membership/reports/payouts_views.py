"""Payout reconciliation as an operation (JSON or CSV, finance and admin roles)."""

from __future__ import annotations

from flask import Response

from membership.api import operation
from membership.reports import payouts
from membership.reports.blueprint import bp
from membership.reports.csv_out import csv_response
from membership.reports.schemas import PayoutsOut, PeriodQuery
from membership.staff.auth import require_permission


@operation(bp, "/payouts", "GET", summary="Payout reconciliation: each payout's lines by stream",
           tag="reports", query=PeriodQuery, response=PayoutsOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def payout_reconciliation(query: PeriodQuery) -> PayoutsOut | Response:
    """Payouts arriving in the period; `difference_minor` is lines minus amount (0 when reconciled)."""
    rows = payouts.payouts(query.start, query.end)
    if query.format == "csv":
        head = ["stripe_payout_id", "arrival_date", "status", "currency", "amount_minor", "lines_net_minor",
                "difference_minor", "reconciled", "line_count", *payouts.COLUMNS, "mismatch_note"]
        return csv_response(payouts.NAME, payouts.VERSION, query.start, query.end, head, (
            [r.stripe_payout_id, r.arrival_date, r.status, r.currency, r.amount_minor, r.lines_net_minor,
             r.difference_minor, r.reconciled, r.line_count, *(r.net_by_stream[c] for c in payouts.COLUMNS),
             r.mismatch_note or ""] for r in rows))
    return PayoutsOut(report=payouts.NAME, version=payouts.VERSION, start=query.start, end=query.end,
                      payouts=rows, count=len(rows))
