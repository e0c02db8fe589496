"""API models of the deferred revenue roll-forward and the recognition waterfall."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class MonthRollForwardOut(BaseModel):
    period: date
    currency: str
    stream: str | None
    opening_minor: int
    deferred_minor: int
    recognized_minor: int
    refunded_minor: int
    disputed_minor: int
    other_minor: int
    closing_minor: int


class DeferredRevenueOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    months: list[MonthRollForwardOut]


class WaterfallRowOut(BaseModel):
    billing_month: date
    currency: str
    stream: str
    billed_minor: int
    reversed_minor: int
    net_minor: int
    recognized_minor: int
    deferred_minor: int
    lines: int
    cells: dict[date, int]


class WaterfallOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    service_months: list[date]
    rows: list[WaterfallRowOut]
