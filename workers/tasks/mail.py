"""Mail tasks: send one notice; find due notices; alert on closing legal windows.

`send_notice` is at-least-once (acks_late) and idempotent on the row (the lease and
the `sent` status); a 4xx reply or a lost connection retries with exponential backoff
capped at 30 minutes, well under the broker's one-hour visibility timeout. When Celery
gives up, the row stays pending and the beat sweeper picks it up again.
"""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from membership.billing.notices import alerts, cards, scheduling
from membership.db import utcnow
from membership.extensions import db
from membership.mail import sending
from membership.mail.locks import try_run_lock
from membership.mail.smtp import TemporaryFailure

log = logging.getLogger(__name__)


@shared_task(
    name="workers.tasks.mail.send_notice", acks_late=True, reject_on_worker_lost=True,
    autoretry_for=(TemporaryFailure, OperationalError, ConnectionError), retry_backoff=10,
    retry_backoff_max=1800, retry_jitter=True, max_retries=12, soft_time_limit=120, time_limit=180,
)
def send_notice(notice_id: int) -> str:
    """Send notice `notice_id` unless it is sent, suppressed, not due or being sent."""
    try:
        return sending.send_notice(int(notice_id), current_app.config["SETTINGS"]).value
    except Exception:
        db.session.rollback()
        raise


def _locked_run(name: str) -> bool:
    if try_run_lock(name):
        return True
    db.session.rollback()
    log.info("another run holds the lock", extra={"lock": name})
    return False


@shared_task(name="workers.tasks.mail.schedule_notices", acks_late=True, soft_time_limit=240, time_limit=300)
def schedule_notices() -> dict[str, int]:
    """Record the renewal-law and year-end notices that are due; re-enqueue lost sends."""
    if not _locked_run("mail.schedule_notices"):
        return {}
    return scheduling.schedule_due_notices()  # the task's commit releases the lock, then sends go out


@shared_task(name="workers.tasks.mail.check_expiring_cards", acks_late=True, soft_time_limit=240, time_limit=300)
def check_expiring_cards() -> int:
    """Today's slice of subscriptions: card expiring next month -> a notice."""
    if not _locked_run("mail.check_expiring_cards"):
        return 0
    return cards.find_expiring_cards(utcnow())


@shared_task(name="workers.tasks.mail.alert_closing_windows", acks_late=True, soft_time_limit=120, time_limit=180)
def alert_closing_windows() -> int:
    """Alert staff (ERROR log + audit row) about notices whose window closes unsent."""
    if not _locked_run("mail.alert_closing_windows"):
        return 0
    return len(alerts.raise_alerts(utcnow()))
