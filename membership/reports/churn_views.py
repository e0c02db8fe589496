"""Churn and cohorts as operations (JSON or CSV, finance and admin roles). CSV: one row per
month (churn) or per cohort and month (cohorts); per-currency figures are columns
named after the currency, and every rate is three columns (count, of, percent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from flask import Response

from membership.api import operation
from membership.enums import Stream
from membership.reports import churn as report
from membership.reports.blueprint import bp
from membership.reports.churn_schemas import ChurnOut, CohortsOut, StreamMonthsQuery
from membership.reports.csv_out import csv_response
from membership.staff.auth import require_permission


@operation(bp, "/churn", "GET", summary="Logo and revenue churn, renewal rate, per month",
           tag="reports", query=StreamMonthsQuery, response=ChurnOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def churn_report(query: StreamMonthsQuery) -> ChurnOut | Response:
    """Voluntary vs delinquent, monthly vs annual plans, gross and net revenue churn per
    currency, annual renewals; definitions in membership/reports/churn.py."""
    result = report.churn(Stream(query.stream), query.start, query.end)
    if query.format == "csv":
        header, rows = _churn_csv(result)
        return csv_response(report.CHURN_NAME, report.VERSION, query.start, query.end, header, rows)
    return ChurnOut(report=report.CHURN_NAME, version=report.VERSION, **asdict(result))


@operation(bp, "/cohorts", "GET", summary="Cohorts: logo and net MRR retention by month of joining",
           tag="reports", query=StreamMonthsQuery, response=CohortsOut, security=require_permission("reports:read"),
           also_produces=("text/csv",))
def cohorts_report(query: StreamMonthsQuery) -> CohortsOut | Response:
    """One cohort per month in [start, end), followed to the last month."""
    result = report.cohorts(Stream(query.stream), query.start, query.end)
    if query.format == "csv":
        header, rows = _cohorts_csv(result)
        return csv_response(report.COHORTS_NAME, report.VERSION, query.start, query.end, header, rows)
    return CohortsOut(report=report.COHORTS_NAME, version=report.VERSION, **asdict(result))


def _rate_cols(name: str) -> list[str]:
    return [name, f"{name}_of", f"{name}_pct"]


def _rate(r: report.Rate) -> list[Any]:
    """The percent as a number (a net churn can be negative: text "-10.0" would be neutralised)."""
    return [r.numerator, r.denominator, Decimal(r.percent) if r.percent else ""]


def _churn_csv(result: report.Churn) -> tuple[list[str], Iterable[list[Any]]]:
    currencies = [r.currency for r in result.months[0].revenue] if result.months else []
    header = ["month", "paying_start", "paying_end", *_rate_cols("churned"), *_rate_cols("voluntary"),
              *_rate_cols("delinquent"), *_rate_cols("monthly_plan_churned"), *_rate_cols("annual_plan_churned"),
              "renewals_came_up", "renewals_lapsed", "renewals_pending", *_rate_cols("renewed")]
    for c in currencies:
        header += [f"{c}_mrr_start_minor", *_rate_cols(f"{c}_gross_churn_minor"), *_rate_cols(f"{c}_net_churn_minor")]
    rows = ([m.month, m.paying_start, m.paying_end, *_rate(m.logo_churn), *_rate(m.voluntary), *_rate(m.delinquent),
             *_rate(m.plans["month"]), *_rate(m.plans["year"]), m.annual_renewals.came_up, m.annual_renewals.lapsed,
             m.annual_renewals.pending, *_rate(m.annual_renewals.rate),
             *(v for r in m.revenue for v in (r.mrr_start_minor, *_rate(r.gross), *_rate(r.net)))]
            for m in result.months)
    return header, rows


def _cohorts_csv(result: report.Cohorts) -> tuple[list[str], Iterable[list[Any]]]:
    currencies = sorted({c for cohort in result.cohorts for c in cohort.starting_mrr_minor})
    header = ["cohort", "month", "age", "readers", *_rate_cols("retained")]
    for c in currencies:
        header += [f"{c}_mrr_minor", *_rate_cols(f"{c}_net_mrr_retention")]
    rows = ([cohort.cohort, m.month, m.age, cohort.readers, *_rate(m.logo_retention),
             *(v for c in currencies for v in (m.mrr_minor.get(c, 0),
                                                *_rate(m.net_mrr_retention.get(c, report.rate(0, 0)))))]
            for cohort in result.cohorts for m in cohort.months)
    return header, rows
