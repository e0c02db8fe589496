"""Billing tasks: apply announced price changes on their day (beat, hourly).

Thin on purpose: the service (`membership.billing.price_change_apply`) decides; the run
lock keeps a slow run and the next one (or the command) from overlapping, and the task's
commit releases it.
"""

from __future__ import annotations

import logging

from celery import shared_task

from membership.billing import price_change_apply
from membership.extensions import db
from membership.mail.locks import try_run_lock

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.billing.apply_price_changes", acks_late=True, soft_time_limit=540, time_limit=600)
def apply_price_changes() -> dict[str, int]:
    """Move told subscribers to the new price and put it on sale; hold and report the rest."""
    if not try_run_lock(price_change_apply.LOCK):
        db.session.rollback()
        log.info("another run holds the lock", extra={"lock": price_change_apply.LOCK})
        return {}
    summary = price_change_apply.apply_due()
    counts = summary.counts()
    if counts["changes"]:
        log.info("price changes applied", extra={**counts, "stopped": summary.stopped})
    return counts
