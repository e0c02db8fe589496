"""Report tasks, on the reports queue (by name): the hourly roll-up of closed months.

Idempotent and cheap when nothing changed: it rolls the months that closed since the
last run (once) and re-rolls those a late change marked (membership/reports/rollup.py).
"""

from __future__ import annotations

import logging

from celery import shared_task

from membership.reports import rollup

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.reports.rollup_closed_months", acks_late=True, ignore_result=True)
def rollup_closed_months() -> dict[str, int]:
    """Returns months rolled per source (empty on SQLite, or when another run holds the lock)."""
    done = rollup.run() or {}
    counts = {source: len(months) for source, months in done.items()}
    log.info("report roll-up", extra={"rolled": counts})
    return counts
