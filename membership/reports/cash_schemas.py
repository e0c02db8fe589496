"""API models of the monthly cash summary (definitions in membership.reports.cash)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CashFiguresOut(BaseModel):
    """Minor units of the row's currency; money out (refunds, disputes) shown positive."""

    gross_charges_minor: int
    refunds_minor: int = Field(description="Refunds less refunds that failed.")
    disputes_minor: int = Field(description="Funds withdrawn for disputes, won or not.")
    dispute_reversals_minor: int = Field(description="Funds reinstated when a dispute was won.")
    net_sales_minor: int = Field(description="gross_charges - refunds - disputes + dispute_reversals.")
    processor_fees_minor: int
    dispute_fees_minor: int
    fees_minor: int = Field(description="processor_fees + dispute_fees.")
    net_received_minor: int = Field(description="net_sales - fees: the balance transactions' net.")
    charge_count: int
    refund_count: int
    refund_failure_count: int
    dispute_count: int
    dispute_reversal_count: int
    unique_payers: int = Field(description="Distinct readers with a charge (in totals: over the whole range).")


class CashCellOut(CashFiguresOut):
    period: date = Field(description="The accounting month (its first day) the money posted to.")
    stream: str
    currency: str


class CashTotalsOut(CashFiguresOut):
    currency: str


class CashSummaryOut(BaseModel):
    report: str
    version: int
    start: date
    end: date
    cells: list[CashCellOut]
    totals: list[CashTotalsOut]
