"""The finance dashboard (finance, admin): `/staff/dashboard` and each table as a CSV.

Views parse the GET form, gather the figures (dashboard_data: the finance reports'
own functions) and build the sections; every table downloads as the CSV of exactly
its rows (`/staff/dashboard/<table>.csv` with the same form), written by csv_safe.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from flask import Response, render_template, request

from membership.console import dashboard_build as build
from membership.console import dashboard_data as data
from membership.console import dashboard_filters as filters_form
from membership.console.blueprint import bp
from membership.console.dashboard_guard import staff_page
from membership.console.dashboard_sections import Section
from membership.console.dashboard_worklist import worklists
from membership.errors import NotFound
from membership.reports.csv_out import csv_response

NAME, VERSION = "dashboard", 1


def _mrr(f: data.Filters) -> Section:
    return build.mrr_section(f, data.mrr(f), data.churn_report(f))


def _movements(f: data.Filters) -> Section:
    return build.movements_section(f, data.mrr(f))


def _cash(f: data.Filters) -> Section:
    return build.cash_section(f, data.cash_and_deferred(f))


def _recognition(f: data.Filters) -> Section:
    return build.recognition_section(f, data.cash_and_deferred(f))


def _churn(f: data.Filters) -> Section:
    return build.churn_section(f, data.churn_report(f))


def _donors(f: data.Filters) -> Section:
    return build.donors_section(f, *data.donor_periods(f))


ONE_SECTION: dict[str, Callable[[data.Filters], Section]] = {
    "mrr": _mrr, "movements": _movements, "cash": _cash, "recognition": _recognition, "churn": _churn,
    "donors": _donors}


def sections(f: data.Filters) -> list[Section]:
    """Every section, each report called once (MRR and cash feed two sections each)."""
    mrr, cash, churn = data.mrr(f), data.cash_and_deferred(f), data.churn_report(f)
    return [build.mrr_section(f, mrr, churn), build.movements_section(f, mrr), build.cash_section(f, cash),
            build.recognition_section(f, cash), build.churn_section(f, churn),
            build.donors_section(f, *data.donor_periods(f))]


@bp.get("/dashboard")
@staff_page("reports:read")
def dashboard() -> tuple[str, int]:
    try:
        f = filters_form.parse(request.args)
    except filters_form.BadFilter as exc:
        return _form_error(exc.detail), 400
    query = filters_form.query(f)
    return render_template("console/dashboard.html", filters=f, form=query, worklists=worklists(),
                           sections=sections(f), choices=data.currencies_in_use(f.base),
                           csv_query=urlencode(query), converted=data.CONVERTED), 200


def _form_error(detail: str) -> str:
    """The form again with what to fix (the defaults filled in), and no figures."""
    form = {"start": request.args.get("start", ""), "end": request.args.get("end", ""),
            "currency": request.args.get("currency", "")}
    base = data.main_currency()
    return render_template("console/dashboard.html", filters=None, form=form, error=detail, worklists=[],
                           sections=[], choices=data.currencies_in_use(base), csv_query="", converted=data.CONVERTED)


@bp.get("/dashboard/<table>.csv")
@staff_page("reports:read", "exports:download")
def dashboard_csv(table: str) -> Response:
    """One table's rows (and its totals row) in minor units, as on the page."""
    build_one = ONE_SECTION.get(table)
    if build_one is None:
        raise NotFound(f"There is no dashboard table {table!r}; tables: {', '.join(ONE_SECTION)}.")
    f = filters_form.parse(request.args)
    section = build_one(f)
    return csv_response(f"{NAME}-{table}-{f.view.lower()}", VERSION, f.start, f.end, section.table.csv_header,
                        section.table.csv_rows())
