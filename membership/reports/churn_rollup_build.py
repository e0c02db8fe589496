"""Rolling the `mrr` source (churn_rollup.py): closed months of MRR movements, summed
per stream with the churn report's own queries over the months being rolled, so a
rolled month holds exactly what the live report computes for it. PostgreSQL only
(the cohort month is the outlet-local month of a timestamp, computed by the database)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select

from membership.billing.models import SubscriptionEvent
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import next_month
from membership.reports import churn
from membership.reports.periods import local_day
from membership.reports.rollup_models import ReportMrrCell


def build_mrr(months: list[date]) -> None:
    """Re-sum every month from the first of `months` on (the source cascades: rollup.py
    passes a suffix of the closed months)."""
    first = months[0]
    db.session.execute(delete(ReportMrrCell).where(ReportMrrCell.month >= first))
    span = churn._Months(first, next_month(months[-1]))
    cells: list[dict[str, Any]] = []
    for stream in Stream:
        cells.extend(_stream_cells(stream, span))
    for chunk in range(0, len(cells), 5000):
        db.session.execute(insert(ReportMrrCell), cells[chunk:chunk + 5000])


def _cell(stream: Stream, measure: str, month: date, value: int, **keys: Any) -> dict[str, Any]:
    return {"stream": stream.value, "measure": measure, "month": month, "value": value, "cohort": None,
            "kind": None, "interval": None, "currency": None, **keys}


def _firsts(stream: Stream, span: Any) -> Any:
    """Each reader's first positive movement in the stream and its local month (the cohort)."""
    e = SubscriptionEvent
    first = func.min(e.occurred_at)
    return (select(e.reader_id, first.label("first_at"), local_day(first, month=True).label("cohort"))
            .where(e.stream == stream, e.mrr_delta_minor > 0, e.occurred_at < span.last)
            .group_by(e.reader_id)).subquery()


def _stream_cells(stream: Stream, span: Any) -> list[dict[str, Any]]:
    """Every measure of the months of `span` (slot k + 1 is month k; slot 0, before it, is not stored)."""
    e = SubscriptionEvent
    day = span.days
    out: list[dict[str, Any]] = []
    firsts = _firsts(stream, span)
    flips = churn._reader_flips(stream, span)
    by_cohort = select(flips.c.occurred_at, flips.c.flip, firsts.c.cohort).select_from(
        flips.join(firsts, firsts.c.reader_id == flips.c.reader_id)).subquery()
    for (cohort,), slots in churn.flip_slots(by_cohort, span, by_cohort.c.cohort).items():
        out += [_cell(stream, "flips", day[k], v, cohort=cohort) for k, v in enumerate(slots[1:]) if v]
    plan = churn._plan_flips(stream, span)
    for (interval,), slots in churn.flip_slots(plan, span, plan.c.interval).items():
        out += [_cell(stream, "plan_flips", day[k], v, interval=interval.value) for k, v in enumerate(slots[1:]) if v]
    _moved, churned = churn._paying_and_churned(stream, span)
    out += [_cell(stream, "churned", day[k], n, kind=kind.value, interval=plan_.value)
            for (k, kind, plan_), n in churned.items() if k >= 0]
    k = span.index(e.occurred_at).label("k")
    in_span = (e.stream == stream, e.occurred_at >= span.bounds[0], e.occurred_at < span.last)
    for month, currency, kind, total in db.session.execute(
            select(k, e.currency, e.kind, func.sum(e.mrr_delta_minor)).where(*in_span).group_by(k, e.currency, e.kind)):
        out.append(_cell(stream, "moved", day[month], int(total), currency=currency, kind=kind.value))
    for cohort, currency, month, total in db.session.execute(
            select(firsts.c.cohort, e.currency, k, func.sum(e.mrr_delta_minor))
            .join(firsts, firsts.c.reader_id == e.reader_id).where(*in_span)
            .group_by(firsts.c.cohort, e.currency, k)):
        out.append(_cell(stream, "cohort_mrr", day[month], int(total), cohort=cohort, currency=currency))
    for cohort, n in db.session.execute(select(firsts.c.cohort, func.count())
                                        .where(firsts.c.first_at >= span.bounds[0]).group_by(firsts.c.cohort)):
        out.append(_cell(stream, "joined", cohort, int(n), cohort=cohort))
    return out
