"""API models of the deferred revenue roll-forward and the recognition waterfall."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from membership.reports.deferred import MonthRollForward, WaterfallRow


class DeferredRevenueOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    months: list[MonthRollForward]


class WaterfallOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    service_months: list[date]
    rows: list[WaterfallRow]
