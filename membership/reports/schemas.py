"""API models of the finance reports (strict requests; see membership.api)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from membership.api import ApiModel

MAX_DAYS = 3 * 366 + 31  # three years and a month: the reports' speed bar (REVENUE.md)
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class RollForwardQuery(ApiModel):
    start: date = Field(description="First day of the period (outlet time zone).")
    end: date = Field(description="The day after the period (exclusive).")
    stream: Literal["membership", "recurring_donation"] = "membership"
    base_currency: CurrencyCode | None = Field(default=None, description="Also convert, with an FX line.")
    format: Literal["json", "csv"] = "json"

    @model_validator(mode="after")
    def _period(self) -> RollForwardQuery:
        if not 0 < (self.end - self.start).days <= MAX_DAYS:
            raise ValueError(f"end must be after start, and at most {MAX_DAYS} days later")
        return self


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
