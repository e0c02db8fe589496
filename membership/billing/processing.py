"""Processing one stored Stripe event exactly once, however often it is delivered.

Two short transactions per event:
1. claim: lock the inbox row (FOR UPDATE SKIP LOCKED), mark it `processing`, count
   the attempt, commit. Counting before the work means an event that kills its
   worker still runs out of attempts instead of looping forever.
2. work: lock the row again, run every handler, mark it `processed`, commit. The
   effects and the status change commit together, so a crash anywhere leaves the
   row re-processable and nothing half-written; a second copy of the task finds the
   row locked at its claim (skips) or, once it has the lock, processed (no-op).
A handler failure rolls the work back and records `failed` with a backoff
(`next_attempt_at`), or `dead` after MAX_ATTEMPTS, shown to staff. While a Stripe
adoption runs, an event waiting for a reader (`RetryLater`) is held instead of dying
(billing/adoption/holding.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, text, update

from membership.billing.adoption.holding import HELD_NOTE, adoption_running
from membership.billing.events import RetryLater, StripeEvent, dispatch, handlers_for
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.db import utcnow
from membership.extensions import db
from membership.unit_of_work import checkpoint

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 15
MAX_BACKOFF_SECONDS = 3600
LEASE_SECONDS = 300  # a `processing` row older than this is presumed orphaned by a dead worker
FINAL = (WebhookStatus.PROCESSED, WebhookStatus.DEAD)


class Outcome(StrEnum):
    PROCESSED = "processed"
    SKIPPED = "skipped"  # already final, or another worker holds it right now
    RETRY = "retry"
    DEAD = "dead"


def backoff_seconds(attempts: int) -> int:
    """15 s, 30 s, 1 min, 2 min ... capped at an hour: covers a checkout that lands late."""
    return int(min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)))


def _async_commit() -> None:
    """This transaction may commit without waiting for the WAL flush.

    Safe here because the event is already durable in the inbox (the endpoint's
    commit is synchronous) and effects commit atomically with the `processed`
    status: a database crash can only lose a whole processing, which the sweeper
    redoes. It saves an fsync per transaction, the largest cost per event.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _locked(webhook_event_id: int) -> WebhookEvent | None:
    """The row we just claimed, locked for the work. This waits instead of skipping:
    another worker's `SKIP LOCKED` scan may hold the lock for a moment (PostgreSQL
    keeps a row locked that it re-checked and found no longer matching until that
    transaction ends), and skipping would strand our claimed row until its lease ends."""
    _async_commit()
    stmt = (select(WebhookEvent).where(WebhookEvent.id == webhook_event_id)
            .with_for_update().execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def _claim(webhook_event_id: int, now: datetime) -> Outcome | None:
    """One UPDATE claims the row, skipping one another worker holds or one already final.

    Returns None when claimed (the handlers must run), SKIPPED when not ours, and
    PROCESSED when no handler exists for the type: most of Stripe's stream
    (payment_intent.*, invoice.created, ...) is then settled in this one transaction.
    """
    _async_commit()
    free = (select(WebhookEvent.id).where(WebhookEvent.id == webhook_event_id)
            .with_for_update(skip_locked=True).scalar_subquery())
    event_type = db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == free, WebhookEvent.status.not_in(list(FINAL)))
        .values(status=WebhookStatus.PROCESSING, attempts=WebhookEvent.attempts + 1,
                next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
        .returning(WebhookEvent.type)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if event_type is None:
        db.session.rollback()
        return Outcome.SKIPPED
    if handlers_for(event_type):
        checkpoint()
        return None
    db.session.execute(
        update(WebhookEvent).where(WebhookEvent.id == webhook_event_id)
        .values(status=WebhookStatus.PROCESSED, processed_at=now, next_attempt_at=None,
                last_error="no handler for this event type")
        .execution_options(synchronize_session=False))
    checkpoint()
    return Outcome.PROCESSED


def process(webhook_event_id: int, max_attempts: int = MAX_ATTEMPTS) -> tuple[Outcome, int]:
    """Process one inbox row; returns the outcome and, for RETRY, the delay in seconds.

    This function owns its transactions (it is the task's unit of work).
    """
    settled = _claim(webhook_event_id, utcnow())
    if settled is not None:
        return settled, 0
    try:
        row = _locked(webhook_event_id)
        if row is None or row.status in FINAL:
            db.session.rollback()
            return Outcome.SKIPPED, 0
        event = StripeEvent.from_payload(json.loads(row.payload), webhook_event_id=row.id)
        dispatch(event)
        row.status = WebhookStatus.PROCESSED
        row.processed_at = utcnow()
        row.next_attempt_at = None
        row.last_error = None
        checkpoint()
        return Outcome.PROCESSED, 0
    except Exception as exc:  # a handler's bug or Stripe's outage: ours to retry
        db.session.rollback()
        return _record_failure(webhook_event_id, exc, max_attempts)


def next_received() -> int | None:
    """Lock one `received` row no other worker holds; the transaction stays open so
    the caller's claim (same transaction) commits or releases it. Ordered like the
    (status, next_attempt_at) index so PostgreSQL walks the index, never the table."""
    stmt = (select(WebhookEvent.id).where(WebhookEvent.status == WebhookStatus.RECEIVED)
            .order_by(WebhookEvent.next_attempt_at).limit(1).with_for_update(skip_locked=True))
    return db.session.scalar(stmt)


def drain(on_retry: Callable[[int, int], object], limit: int = 500, seconds: float = 10.0) -> tuple[int, bool]:
    """Process received rows one by one (each with its own claim and work transactions,
    exactly as `process`) until none is left or the budget is spent, so a worker pays
    its per-message overhead once per burst instead of once per event.

    Returns (rows handled, whether the budget ran out with rows possibly left).
    `on_retry(id, delay)` schedules a failed row's retry.
    """
    deadline = time.monotonic() + seconds
    handled = 0
    while handled < limit and time.monotonic() < deadline:
        row_id = next_received()
        if row_id is None:
            db.session.rollback()
            return handled, False
        outcome, delay = process(row_id)
        if outcome is Outcome.RETRY:
            on_retry(row_id, delay)
        handled += 1
    return handled, True


def _record_failure(webhook_event_id: int, exc: Exception, max_attempts: int) -> tuple[Outcome, int]:
    expected = isinstance(exc, RetryLater)
    if not expected:
        log.exception("webhook event failed", extra={"webhook_event_id": webhook_event_id})
    row = db.session.get(WebhookEvent, webhook_event_id, with_for_update=True, populate_existing=True)
    if row is None:
        db.session.rollback()
        return Outcome.SKIPPED, 0
    row.last_error = f"{'retry later' if expected else type(exc).__name__}: {exc}"[:4000]
    held = expected and row.attempts >= max_attempts and adoption_running()
    if held:  # a customer the adoption has not reached yet: wait for it (adoption/holding.py)
        row.last_error = f"{row.last_error} ({HELD_NOTE})"[:4000]
    if row.attempts >= max_attempts and not held:
        row.status = WebhookStatus.DEAD
        row.next_attempt_at = None
        checkpoint()
        log.warning("webhook event dead", extra={"webhook_event_id": webhook_event_id, "error": row.last_error})
        return Outcome.DEAD, 0
    delay = backoff_seconds(row.attempts)
    row.status = WebhookStatus.FAILED
    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
    checkpoint()
    return Outcome.RETRY, delay


def due_for_sweep(now: datetime, received_older_than: float = 60.0, limit: int = 500) -> list[int]:
    """Rows the queue may have lost: received but never picked up, processing with an
    expired lease (the worker died), failed whose retry time has come."""
    stale = now - timedelta(seconds=received_older_than)
    stmt = (select(WebhookEvent.id).where(or_(
        (WebhookEvent.status == WebhookStatus.RECEIVED) & (WebhookEvent.received_at <= stale),
        (WebhookEvent.status.in_([WebhookStatus.PROCESSING, WebhookStatus.FAILED]))
        & (WebhookEvent.next_attempt_at <= now),
    )).order_by(WebhookEvent.id).limit(limit))
    return list(db.session.scalars(stmt))


def reset_for_replay(ids: list[int]) -> int:
    """Make chosen rows processable again (fresh attempts). Flushes only."""
    rows = db.session.scalars(select(WebhookEvent).where(WebhookEvent.id.in_(ids)).with_for_update())
    count = 0
    for row in rows:
        row.status = WebhookStatus.RECEIVED
        row.attempts = 0
        row.next_attempt_at = None
        row.last_error = None
        count += 1
    db.session.flush()
    return count
