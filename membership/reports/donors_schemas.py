"""API models of the donors report and the year-end statements (strict requests). The
responses carry the report's own dataclasses, so their fields are declared once."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from membership.api import ApiModel
from membership.reports.donors import CurrencyDonors, Statement
from membership.reports.schemas import MonthsQuery


class DonorsQuery(MonthsQuery):
    """Whole calendar months (a year is twelve), compared with as many months before."""



class StatementsQuery(ApiModel):
    year: int = Field(ge=2000, le=2100, description="The calendar year in the outlet's time zone.")
    format: Literal["json", "csv"] = "json"


class DonorsOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    previous_start: date
    previous_end: date
    currencies: list[CurrencyDonors]


class StatementsOut(BaseModel):
    report: str
    version: int
    year: int
    statements: list[Statement]
    count: int
