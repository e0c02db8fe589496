"""Donors report and year-end giving statements, as operations (JSON or CSV, finance and admin roles)."""

from __future__ import annotations

from dataclasses import fields as fields_of
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response

from membership.api import operation
from membership.reports import donors
from membership.reports.blueprint import bp
from membership.reports.csv_out import csv_response
from membership.reports.donors_schemas import DonorsOut, DonorsQuery, StatementsOut, StatementsQuery
from membership.staff.auth import require_permission

DONOR_COLUMNS = ("donors", "new", "retained", "reactivated", "lapsed", "previous_donors", "gifts", "gross_minor",
                 "benefit_minor", "deductible_minor")


@operation(bp, "/donors", "GET", summary="Donors: new, retained, lapsed, reactivated; recurring share; gifts",
           tag="reports", query=DonorsQuery, response=DonorsOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def donor_report(query: DonorsQuery) -> DonorsOut | Response:
    """Per currency, [start, end) against as many calendar months before it (definitions
    in membership/reports/donors.py)."""
    report = donors.donors(query.start, query.end)
    if query.format == "csv":
        head = ["currency", *DONOR_COLUMNS, "recurring_minor", "recurring_percent", "average_gift_minor",
                "median_gift_minor"]
        return csv_response(donors.NAME, donors.VERSION, query.start, query.end, head,
                            (_csv_row(c) for c in report.currencies))
    return DonorsOut(report=donors.NAME, version=donors.VERSION, **vars(report))


@operation(bp, "/donors/statements", "GET", summary="Year-end giving statements, one row per donor and currency",
           tag="reports", query=StatementsQuery, response=StatementsOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def donor_statements(query: StatementsQuery) -> StatementsOut | Response:
    """The same totals and wording as the mailed year-end statements, for a mail merge or a check."""
    rows = donors.statements(query.year)
    if query.format == "csv":
        head = [f.name for f in fields_of(donors.Statement)]
        return csv_response(donors.STATEMENTS_NAME, donors.VERSION, date(query.year, 1, 1),
                            date(query.year + 1, 1, 1), head, ([getattr(r, f) for f in head] for r in rows))
    return StatementsOut(report=donors.STATEMENTS_NAME, version=donors.VERSION, year=query.year,
                         statements=rows, count=len(rows))


def _csv_row(c: donors.CurrencyDonors) -> list[Any]:
    """Empty cells where a figure is undefined (no gifts); the percent as a number."""
    percent = None if c.recurring_share.percent is None else Decimal(c.recurring_share.percent)
    blank = ("" if v is None else v for v in (percent, c.average_gift_minor, c.median_gift_minor))
    return [c.currency, *(getattr(c, f) for f in DONOR_COLUMNS), c.recurring_share.numerator_minor, *blank]
