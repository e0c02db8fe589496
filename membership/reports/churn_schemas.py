"""API models of the churn and cohorts reports (REVENUE.md report 5)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from membership.reports.schemas import MonthsQuery, RecurringStream


class StreamMonthsQuery(MonthsQuery):
    """Whole months of one recurring stream (one row per month)."""

    stream: RecurringStream = "membership"


class RateOut(BaseModel):
    """A rate is never a bare percentage (REVENUE.md): "0.0" (0 of 3)."""

    numerator: int
    denominator: int
    percent: str | None = Field(description="numerator / denominator in %, one decimal; null when denominator is 0.")


class RevenueChurnOut(BaseModel):
    currency: str
    mrr_start_minor: int
    movements: dict[str, int]
    gross: RateOut
    net: RateOut


class RenewalsOut(BaseModel):
    came_up: int
    renewed: int
    lapsed: int
    pending: int
    rate: RateOut


class ChurnMonthOut(BaseModel):
    month: date
    paying_start: int
    paying_end: int
    logo_churn: RateOut
    voluntary: RateOut
    delinquent: RateOut
    plans: dict[str, RateOut]
    revenue: list[RevenueChurnOut]
    annual_renewals: RenewalsOut


class ChurnOut(BaseModel):
    report: str
    version: int
    stream: str
    start: date
    end: date
    months: list[ChurnMonthOut]


class CohortMonthOut(BaseModel):
    month: date
    age: int
    logo_retention: RateOut
    mrr_minor: dict[str, int]
    net_mrr_retention: dict[str, RateOut]


class CohortOut(BaseModel):
    cohort: date
    readers: int
    starting_mrr_minor: dict[str, int]
    months: list[CohortMonthOut]


class CohortsOut(BaseModel):
    report: str
    version: int
    stream: str
    start: date
    end: date
    cohorts: list[CohortOut]
