"""The dashboard's sections: for each, a chart (or two) and the table behind it, whose
rows are also its CSV. A table cell keeps the raw number (minor units, counts) for the
CSV and the text a person reads, and links to the readers behind the figure.

Why the CSV is built from the same rows as the page: what finance downloads is what it
saw, and its totals are the report's (the tests compare them with the staff API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from membership.console import dashboard_data as data
from membership.console.charts import Chart
from membership.db import utcnow
from membership.ledger.journal import local_date
from membership.money import SYMBOLS, decimals, format_money, from_minor
from membership.reports.churn import Rate

MOVEMENTS = [("new", "New"), ("reactivation", "Reactivation"), ("expansion", "Expansion"),
             ("contraction", "Contraction"), ("churn_voluntary", "Churn (voluntary)"),
             ("churn_delinquent", "Churn (delinquent)"), ("pause", "Pause"), ("resume", "Resume")]
STREAMS = {"membership": "Membership", "recurring_donation": "Recurring gifts",
           "one_time_donation": "One-time gifts", "other": "Other", "unattributed": "Unattributed"}
DONOR_KINDS = [("new", "New"), ("retained", "Retained"), ("reactivated", "Reactivated"), ("lapsed", "Lapsed")]


@dataclass(frozen=True)
class Cell:
    text: str
    raw: Any
    href: str | None = None
    numeric: bool = True


@dataclass
class Table:
    key: str
    caption: str
    header: list[str]
    csv_header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    foot: list[list[Cell]] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)  # columns left off the page (all zero), kept in the CSV

    def csv_rows(self) -> list[list[Any]]:
        return [[c.raw for c in row] for row in (*self.rows, *self.foot)]


@dataclass
class Section:
    key: str
    title: str
    intro: str
    table: Table
    charts: list[Chart] = field(default_factory=list)
    note: str | None = None


def month_label(month: date) -> str:
    return month.strftime("%b %Y")


def month_cell(month: date) -> Cell:
    """"Mar 2026" on the page (the open month marked "to date"), 2026-03-01 in the CSV."""
    to_date = month == local_date(utcnow()).replace(day=1)
    return Cell(month_label(month) + (" (to date)" if to_date else ""), month.isoformat(), numeric=False)


def text_cell(value: str) -> Cell:
    return Cell(value, value, numeric=False)


class Money:
    """Formats minor units of one currency for tables, tooltips and axis ticks."""

    def __init__(self, currency: str) -> None:
        self.currency = currency

    def cell(self, minor: int, href: str | None = None) -> Cell:
        return Cell(format_money(minor, self.currency), minor, href)

    def text(self, minor: float) -> str:
        return format_money(int(minor), self.currency)

    def tick(self, minor: float) -> str:
        """Whole units, thousands as k: "$12.5k", "-€300"."""
        major = float(from_minor(int(minor), self.currency))
        sign, size, symbol = "-" if major < 0 else "", abs(major), SYMBOLS.get(self.currency, "")
        if size >= 1_000_000:
            body = f"{size / 1_000_000:.1f}M"
        elif size >= 1000:
            body = f"{size / 1000:.1f}k".replace(".0k", "k")
        else:
            whole = decimals(self.currency) == 0 or size >= 10 or size == int(size)
            body = f"{size:,.0f}" if whole else f"{size:,.2f}"
        return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {self.currency}"


def count_cell(n: int, href: str | None = None) -> Cell:
    return Cell(f"{n:,}", n, href)


def rate_text(r: Rate) -> str:
    return f"{r.percent}% ({r.numerator} of {r.denominator})" if r.percent is not None else f"– (0 of {r.denominator})"


def drill(path: str, **params: Any) -> str:
    return f"/staff/dashboard/{path}?" + urlencode({k: v for k, v in params.items() if v is not None})


def month_param(month: date) -> str:
    return month.strftime("%Y-%m")


def view_currency(filters: data.Filters) -> str | None:
    """The drill-downs' currency filter: none in the converted view (every currency)."""
    return None if filters.converted else filters.view


def unit_words(filters: data.Filters) -> str:
    if filters.converted:
        return f"{filters.base}, all currencies converted"
    return filters.view
