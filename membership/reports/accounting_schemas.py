"""API models of the journal export (accounting.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from membership.money import normalize_currency
from membership.reports.schemas import CurrencyCode, MonthsQuery


class JournalExportQuery(MonthsQuery):
    """Whole months [start, end) of accounting periods, one currency, for one target."""

    target: Literal["quickbooks", "xero"] = Field(description="The CSV layout: QuickBooks Online or Xero.")
    currency: CurrencyCode = Field(description="One file is one currency (both systems' journals are).")

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str) -> str:
        return normalize_currency(value)  # MoneyError is a ValueError: a 422 naming the field



class JournalLineOut(BaseModel):
    entry_id: int
    account: str
    stream: str | None
    account_name: str
    account_code: str
    debit_minor: int
    credit_minor: int


class JournalOut(BaseModel):
    journal_id: int
    journal_no: str
    kind: str
    occurred_at: datetime
    period: date
    date: date
    memo: str
    name: str
    debits_minor: int
    credits_minor: int
    lines: list[JournalLineOut]


class JournalExportOut(BaseModel):
    report: str
    version: int
    target: str
    currency: str
    start: date
    end: date
    journals: list[JournalOut]
    count: int
