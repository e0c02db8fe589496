"""MRR roll-forward and its drill-down, as operations (JSON or CSV, finance and admin roles)."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import fields as fields_of
from typing import Any

from flask import Response

from membership.api import operation
from membership.enums import Stream
from membership.reports import mrr_rollforward
from membership.reports.blueprint import bp
from membership.reports.csv_out import csv_response
from membership.reports.schemas import MovementsOut, MovementsQuery, RollForwardOut, RollForwardQuery
from membership.staff.auth import require_permission


@operation(bp, "/mrr-rollforward", "GET", summary="MRR roll-forward: start, movements, FX, end",
           tag="reports", query=RollForwardQuery, response=RollForwardOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def mrr_roll_forward(query: RollForwardQuery) -> RollForwardOut | Response:
    """Per currency start + movements = end exactly; with `base_currency`, converted at
    the stored rates (422 if one is missing) with the FX line that closes the gap."""
    report = mrr_rollforward.roll_forward(Stream(query.stream), query.start, query.end, query.base_currency)
    if query.format == "csv":
        return csv_response(mrr_rollforward.NAME, mrr_rollforward.VERSION, query.start, query.end,
                            ("currency", "line", "amount_minor"), _csv_rows(report))
    return RollForwardOut(report=mrr_rollforward.NAME, version=mrr_rollforward.VERSION, **asdict(report))


@operation(bp, "/mrr-movements", "GET", summary="The MRR movements behind a roll-forward figure",
           tag="reports", query=MovementsQuery, response=MovementsOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def mrr_movements(query: MovementsQuery) -> MovementsOut | Response:
    """Oldest first, with the reader; `truncated` when `limit` cut the list."""
    lines = mrr_rollforward.movements(Stream(query.stream), query.start, query.end, query.kind, query.currency,
                                      query.limit + 1)
    truncated, lines = len(lines) > query.limit, lines[:query.limit]
    if query.format == "csv":
        fields = [f.name for f in fields_of(mrr_rollforward.MovementLine)]
        return csv_response("mrr-movements", mrr_rollforward.VERSION, query.start, query.end, fields,
                            ([getattr(line, f) for f in fields] for line in lines))
    return MovementsOut(report="mrr-movements", version=mrr_rollforward.VERSION, start=query.start, end=query.end,
                        movements=lines, count=len(lines),
                        truncated=truncated)


def _csv_rows(report: mrr_rollforward.RollForward) -> list[tuple[Any, ...]]:
    """Lines in roll-forward order per currency, then the converted block (if asked)."""
    rows: list[tuple[Any, ...]] = []
    for c in report.currencies:
        rows += [(c.currency, "start", c.start_minor), *((c.currency, k, v) for k, v in c.movements.items()),
                 (c.currency, "end", c.end_minor)]
    if report.converted is not None:
        v = report.converted
        base = f"{v.base_currency} (converted)"
        rows += [(base, "start", v.start_minor), *((base, k, a) for k, a in v.movements.items()),
                 (base, "fx", v.fx_minor), (base, "end", v.end_minor)]
    return rows
