"""Webhook tasks: process one stored event; sweep the inbox; nightly resync; delinquent churn.

Thin on purpose: they take ids, call the billing services and own no state. Every
one is safe to run twice (acks_late redelivery, the sweeper, an operator replay).
"""

from __future__ import annotations

import logging

from celery import shared_task

from membership.billing import nudge, processing
from membership.billing.mrr import mark_delinquent_churn as mark_delinquent
from membership.billing.subscriptions import resync_all
from membership.db import utcnow
from membership.extensions import db
from membership.queue import enqueue

log = logging.getLogger(__name__)
SWEEP_LOCK_KEY = 0x5EE9_1A0B  # pg advisory lock id: one sweeper at a time across beats


@shared_task(name="workers.tasks.webhooks.process_event", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def process_event(webhook_event_id: int) -> str:
    """Process one inbox row (on failure schedule its retry with the row's backoff),
    then every other received row this worker can claim: the endpoint publishes one
    message per burst, not per event (`membership.billing.nudge`)."""
    nudge.clear_pending()  # before looking for rows: later rows publish again
    outcome, delay = processing.process(int(webhook_event_id))
    if outcome is processing.Outcome.RETRY:
        _retry(webhook_event_id, delay)
    _drain()
    return outcome.value


@shared_task(name="workers.tasks.webhooks.drain_inbox", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def drain_inbox() -> int:
    """Continue a drain that ran out of budget with rows left."""
    nudge.clear_pending()
    return _drain()


def _retry(webhook_event_id: int, delay: int) -> None:
    enqueue(process_event, webhook_event_id, countdown=delay)


def _drain() -> int:
    handled, more = processing.drain(_retry)
    if more:  # hand the rest to a fresh message so one task never runs for long
        enqueue(drain_inbox)
    return handled


@shared_task(name="workers.tasks.webhooks.sweep_inbox", acks_late=True, ignore_result=True)
def sweep_inbox(received_older_than: float = 60.0) -> int:
    """Re-enqueue rows the broker may have lost (sent while Redis was down, worker
    killed mid-event, retry countdown lost). Overlapping sweeps are harmless (the row
    lock makes duplicates no-ops) but wasteful, so a lock keeps one at a time."""
    if not _try_lock():
        return 0
    try:
        ids = processing.due_for_sweep(utcnow(), received_older_than)
        sent = sum(1 for i in ids if enqueue(process_event, i))
    finally:
        db.session.rollback()  # ends the transaction, releasing the xact lock
    if ids:
        log.info("inbox swept", extra={"due": len(ids), "enqueued": sent})
    return sent


def _try_lock() -> bool:
    from sqlalchemy import text

    if db.session.get_bind().dialect.name != "postgresql":
        return True  # SQLite (embedded default): one process, no overlap to prevent
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK_KEY}))


@shared_task(name="workers.tasks.webhooks.resync_subscriptions", acks_late=True, ignore_result=True)
def resync_subscriptions() -> int:
    """Nightly: re-fetch every live subscription from Stripe to catch drift."""
    return resync_all()


@shared_task(name="workers.tasks.webhooks.mark_delinquent_churn", acks_late=True, ignore_result=True)
def mark_delinquent_churn() -> int:
    """Daily: past_due beyond the dunning window leaves MRR as delinquent churn."""
    return mark_delinquent(utcnow())
