"""API models of the finance reports (strict requests; see membership.api)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from membership.api import ApiModel
from membership.enums import MrrMovement
from membership.reports.mrr_rollforward import MovementLine
from membership.reports.payouts import PayoutRow

MAX_DAYS = 3 * 366 + 31  # three years and a month: the reports' speed bar (REVENUE.md)
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class PeriodQuery(ApiModel):
    """[start, end) in whole days of the outlet's time zone, JSON or CSV."""

    start: date = Field(description="First day of the period (outlet time zone).")
    end: date = Field(description="The day after the period (exclusive).")
    format: Literal["json", "csv"] = "json"

    @model_validator(mode="after")
    def _period(self) -> PeriodQuery:
        if not 0 < (self.end - self.start).days <= MAX_DAYS:
            raise ValueError(f"end must be after start, and at most {MAX_DAYS} days later")
        return self


class MonthsQuery(PeriodQuery):
    """Whole months: both ends are first days of months (the journal posts to months, and
    month-by-month reports have one row per month)."""

    @model_validator(mode="after")
    def _whole_months(self) -> MonthsQuery:
        if self.start.day != 1 or self.end.day != 1:
            raise ValueError("start and end must be first days of months")
        return self


RecurringStream = Literal["membership", "recurring_donation"]


class RollForwardQuery(PeriodQuery):
    stream: RecurringStream = "membership"
    base_currency: CurrencyCode | None = Field(default=None, description="Also convert, with an FX line.")


class MovementsQuery(PeriodQuery):
    stream: RecurringStream = "membership"
    kind: MrrMovement | None = None
    currency: CurrencyCode | None = None
    limit: int = Field(default=10_000, ge=1, le=100_000)


class MovementsOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    movements: list[MovementLine]
    count: int
    truncated: bool


class CurrencyRollForwardOut(BaseModel):
    currency: str
    start_minor: int
    movements: dict[str, int]
    end_minor: int
    discount_start_minor: int
    discount_end_minor: int


class RateOut(BaseModel):
    on_date: date
    currency: str
    base_currency: str
    rate: Decimal
    source: str


class ConvertedRollForwardOut(BaseModel):
    base_currency: str
    start_minor: int
    movements: dict[str, int]
    fx_minor: int
    end_minor: int
    rates: list[RateOut]


class RollForwardOut(BaseModel):
    report: str
    version: int
    stream: str
    start: date
    end: date
    currencies: list[CurrencyRollForwardOut]
    converted: ConvertedRollForwardOut | None


class PayoutsOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    payouts: list[PayoutRow]
    count: int


class SectionOut(BaseModel):
    count: int
    items: list[dict[str, Any]]


class ExceptionsOut(BaseModel):
    report: str
    version: int
    generated_at: datetime
    failed_payments: SectionOut
    open_disputes: SectionOut
    unreconciled_payouts: SectionOut
    unattributed_payout_lines: SectionOut
    dead_webhook_events: SectionOut
