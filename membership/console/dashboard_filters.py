"""The dashboard's GET form: a range of months and a currency view, checked and defaulted.

Default: the last twelve whole months (the current one is a choice away), every currency
converted into the outlet's main currency. Months are typed as YYYY-MM (the form's
month inputs send that); the end month is included, so "2026-01 to 2026-12" is a year.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from membership.console import dashboard_data as data
from membership.db import utcnow
from membership.errors import DomainError
from membership.ledger.journal import local_date, next_month

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BadFilter(DomainError):
    status, title, type_slug = 400, "Check the dashboard's filters", "bad-filter"


def parse_month(value: str, name: str) -> date:
    found = MONTH.match(value.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise BadFilter(f"{name} must be a month written YYYY-MM, such as 2026-03; got {value[:20]!r}.")
    return date(int(found.group(1)), int(found.group(2)), 1)


def default_end() -> date:
    """The first day of the current month: the default range is the last twelve whole
    months (a month to date would end every chart in a cliff); choose the current month
    as the last one to see it so far."""
    return local_date(utcnow()).replace(day=1)


def parse(args: Mapping[str, str]) -> data.Filters:
    base = data.main_currency()
    end = next_month(parse_month(args["end"], "The last month")) if args.get("end") else default_end()
    start = (parse_month(args["start"], "The first month") if args.get("start")
             else data.add_months(end, -data.DEFAULT_MONTHS))
    months = (end.year - start.year) * 12 + end.month - start.month
    if months < 1:
        raise BadFilter("The first month must not be after the last month.")
    if months > data.MAX_MONTHS:
        raise BadFilter(f"Choose at most {data.MAX_MONTHS} months (you chose {months}).")
    view = (args.get("currency") or data.CONVERTED).strip()
    choices = data.currencies_in_use(base)
    if view != data.CONVERTED and view not in choices:
        raise BadFilter(f"Currency must be one of {', '.join(choices)} or {data.CONVERTED}.")
    return data.Filters(start, end, view, base)


def query(filters: data.Filters) -> dict[str, str]:
    """The filters as the form writes them (for links that keep them)."""
    return {"start": filters.start.strftime("%Y-%m"), "end": data.add_months(filters.end, -1).strftime("%Y-%m"),
            "currency": filters.view}
