"""Report tasks, on the reports queue (by name): nightly revenue recognition and the
hourly roll-up of closed months.

Recognition is thin: it works out which day to recognise through and calls the ledger,
which remembers per schedule how far it got, so a re-run or an overlap posts nothing
twice and a missed night is caught up month by month. The roll-up is idempotent and
cheap when nothing changed: it rolls the months that closed since the last run (once)
and re-rolls those a late change marked (membership/reports/rollup.py).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task

from membership.db import utcnow
from membership.ledger.journal import local_date
from membership.ledger.recognition import recognize_through
from membership.reports import rollup

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.reports.rollup_closed_months", acks_late=True, ignore_result=True)
def rollup_closed_months() -> dict[str, int]:
    """Returns months rolled per source (empty on SQLite, or when another run holds the lock)."""
    done = rollup.run() or {}
    counts = {source: len(months) for source, months in done.items()}
    log.info("report roll-up", extra={"rolled": counts})
    return counts


@shared_task(name="workers.tasks.reports.recognize_revenue", acks_late=True, ignore_result=True)
def recognize_revenue(through: str | None = None) -> int:
    """Recognise membership revenue through `through` (ISO date), by default yesterday in
    the outlet's time zone (the last whole local day). Returns how many groups posted."""
    day = date.fromisoformat(through) if through else local_date(utcnow()) - timedelta(days=1)
    posted = recognize_through(day)  # the task base commits (or rolls back) once
    log.info("revenue recognised", extra={"through": day.isoformat(), "groups": posted})
    return posted
