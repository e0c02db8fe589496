"""Deferred revenue roll-forward and recognition waterfall as operations (JSON or CSV,
finance and admin roles)."""

from __future__ import annotations

from dataclasses import fields as fields_of
from typing import Any

from flask import Response

from membership.api import operation
from membership.reports import deferred
from membership.reports.blueprint import bp
from membership.reports.csv_out import csv_response
from membership.reports.deferred_schemas import (
    DeferredRevenueOut,
    WaterfallOut,
)
from membership.reports.schemas import MonthsQuery
from membership.staff.auth import require_permission

ROW_FIELDS = [f.name for f in fields_of(deferred.WaterfallRow) if f.name != "cells"]


@operation(bp, "/deferred-revenue", "GET", summary="Deferred revenue roll-forward per month, currency, stream",
           tag="reports", query=MonthsQuery, response=DeferredRevenueOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def deferred_revenue(query: MonthsQuery) -> DeferredRevenueOut | Response:
    """Amounts still owed (positive); per row opening + deferred - recognized - refunded
    - disputed + other = closing, exactly. `start`/`end` are first days of months."""
    rows = deferred.roll_forward(query.start, query.end)
    if query.format == "csv":
        fields = [f.name for f in fields_of(deferred.MonthRollForward)]
        return csv_response(deferred.ROLLFORWARD_NAME, deferred.VERSION, query.start, query.end, fields,
                            ([getattr(row, f) for f in fields] for row in rows))
    return DeferredRevenueOut(report=deferred.ROLLFORWARD_NAME, version=deferred.VERSION, start=query.start,
                              end=query.end, months=rows)


@operation(bp, "/recognition-waterfall", "GET", summary="Recognition waterfall: billing month x service month",
           tag="reports", query=MonthsQuery, response=WaterfallOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def recognition_waterfall(query: MonthsQuery) -> WaterfallOut | Response:
    """Rows: billing months in the period (payment's paid_at); cells: service months, net
    of reversals (shown in `reversed_minor`), summing to `net_minor` = billed - reversed.
    CSV: one column per service month (YYYY-MM-01), 0 where nothing falls."""
    report = deferred.waterfall(query.start, query.end)
    if query.format == "csv":
        head = [*ROW_FIELDS, *(m.isoformat() for m in report.service_months)]
        return csv_response(deferred.WATERFALL_NAME, deferred.VERSION, query.start, query.end, head,
                            _csv_rows(report))
    return WaterfallOut(report=deferred.WATERFALL_NAME, version=deferred.VERSION, start=query.start, end=query.end,
                        service_months=report.service_months,
                        rows=report.rows)


def _csv_rows(report: deferred.Waterfall) -> list[list[Any]]:
    return [[*(getattr(row, f) for f in ROW_FIELDS), *(row.cells.get(m, 0) for m in report.service_months)]
            for row in report.rows]
