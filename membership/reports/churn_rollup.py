"""Churn and cohorts read closed months of MRR movements from their roll-up (issue 15).

Why a prefix, not a set of months: a reader's paying state at any instant depends on
every movement before it, so a late movement (or a subscription's plan changing) in
month M can change the flips of every month from M on. The `mrr` source therefore
rolls and re-rolls a *suffix*: all closed months from the earliest one touched
(rollup.py, CASCADING), and a report reads the roll-up for the months before the
*frontier* (the first month that is open, unrolled or marked) and computes the rest
live. The live part only needs the readers who moved from the frontier on (only they
can flip then), over their whole history: a few thousand readers instead of all.

What one rolled month holds per stream (`report_mrr_cells`, rows by `measure`):
- `flips`: the readers' paying flips (+1 started, -1 stopped) in the month, per cohort
  (the month of the reader's first positive movement); summed over cohorts they give
  paying readers at every boundary, per cohort the cohort's retention;
- `plan_flips`: flips of readers per plan interval (the per-plan denominators);
- `churned`: readers lost in the month per (last churn kind, its plan interval);
- `moved`: MRR movements per (currency, kind): MRR at a boundary and revenue churn;
- `cohort_mrr`: the movements of each cohort's readers per currency;
- `joined`: readers whose cohort is the month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from membership.enums import Interval, MrrMovement, Stream
from membership.extensions import db
from membership.reports import rollup
from membership.reports.periods import day_start
from membership.reports.rollup_models import ReportMrrCell

if TYPE_CHECKING:
    from membership.reports.churn import _Months


@dataclass(frozen=True)
class Split:
    """A report's months split at the frontier: `rows` are the roll-up's cells before
    it; `since` is where the live part starts (None: everything is live); `all`: the
    roll-up holds every month of the report, nothing is computed live."""

    since: datetime | None
    frontier: date | None
    all: bool = False
    rows: list[Any] = field(default_factory=list)

    def _of(self, measure: str) -> Iterator[Any]:
        return (r for r in self.rows if r.measure == measure)

    def flips(self, months: _Months) -> list[int]:
        slots = months.zeros()
        for r in self._of("flips"):
            slots[months.slot(r.month)] += r.value
        return slots

    def plan_flips(self, months: _Months) -> dict[tuple[Interval], list[int]]:
        out: dict[tuple[Interval], list[int]] = defaultdict(months.zeros)
        for r in self._of("plan_flips"):
            out[(Interval(r.interval),)][months.slot(r.month)] += r.value
        return out

    def churned(self, months: _Months) -> dict[tuple[int, MrrMovement, Interval], int]:
        out: dict[tuple[int, MrrMovement, Interval], int] = defaultdict(int)
        for r in self._of("churned"):
            slot = months.slot(r.month)
            if slot:  # churn is counted in the report's months only
                out[(slot - 1, MrrMovement(r.kind), Interval(r.interval))] += r.value
        return out

    def moved(self, months: _Months) -> Iterator[tuple[int, str, str, int]]:
        return ((months.slot(r.month), r.currency, r.kind, r.value) for r in self._of("moved"))

    def _cohort(self, months: _Months, cohort: date | None) -> int | None:
        """The report's index of a cohort month it lists, else None."""
        if cohort is None or cohort < months.days[0] or cohort >= months.days[-1]:
            return None
        return months.slot(cohort) - 1

    def joined(self, months: _Months) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for r in self._of("joined"):
            c = self._cohort(months, r.cohort)
            if c is not None:
                out[c] += r.value
        return out

    def cohort_flips(self, months: _Months) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(months.zeros)
        for r in self._of("flips"):
            c = self._cohort(months, r.cohort)
            if c is not None:
                out[c][months.slot(r.month)] += r.value
        return out

    def cohort_mrr(self, months: _Months) -> dict[tuple[int, str], list[int]]:
        """Cohorts that started before the frontier only: a later one is summed live,
        its whole history (its readers' cohort was not known when the months rolled)."""
        out: dict[tuple[int, str], list[int]] = defaultdict(months.zeros)
        for r in self._of("cohort_mrr"):
            c = self._cohort(months, r.cohort)
            if c is not None and self.frontier is not None and r.cohort < self.frontier:
                out[(c, r.currency)][months.slot(r.month)] += r.value
        return out


def split(stream: Stream, days: list[date]) -> Split:
    """The roll-up's part of a report over the months `days[:-1]` (`days[-1]` its end)."""
    frontier = rollup.frontier(rollup.MRR)
    if frontier is None:
        return Split(None, None)
    end = days[-1]
    c = ReportMrrCell
    rows = list(db.session.execute(
        select(c.measure, c.month, c.cohort, c.kind, c.interval, c.currency, c.value)
        .where(c.stream == stream.value, c.month < min(frontier, end))))
    return Split(day_start(frontier), frontier, frontier >= end, rows)
