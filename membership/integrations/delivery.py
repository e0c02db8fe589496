"""Delivering the outbox: in order per member, retried for three days, then given up.

Order: deliveries of one endpoint for one reader form a line, and only its head (the
lowest id still pending) is ever tried. A worker locks the head row with
FOR UPDATE SKIP LOCKED and holds the lock over the POST, so a second worker on the same
line finds the head taken and leaves; event n+1 is never sent before n has been
delivered or given up.

Retries: after a failed try the head waits `SCHEDULE[attempts-1]` seconds (5 s, 15 s,
30 s, then minutes, then hours), its line behind it. Short waits are a task countdown;
beat's sweeper (every 30 s) catches every due line, so a lost message only delays. An
event still failing three days after it happened is given up (`failed`, kept in the
delivery log for replay) and the line moves on. An endpoint whose last
`DISABLE_AFTER` events were all given up is disabled, with an audit row and an ERROR
log line for the admins; its pending deliveries wait until it is enabled again.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from enum import StrEnum

import requests
from sqlalchemy import and_, func, select

from membership.db import utcnow
from membership.extensions import db
from membership.integrations import payloads
from membership.integrations.models import DeliveryStatus, OutboundAttempt, OutboundDelivery, OutboundEndpoint
from membership.integrations.outbox import DELIVER_TASK
from membership.integrations.sealing import unseal
from membership.integrations.signing import headers
from membership.queue import enqueue_after_commit
from membership.staff.models import AuditLog
from membership.unit_of_work import checkpoint

log = logging.getLogger(__name__)
SCHEDULE = (5, 15, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)  # seconds; the last repeats
GIVE_UP_AFTER = timedelta(days=3)
DISABLE_AFTER = 5
COUNTDOWN_UNDER = 300  # longer waits are left to the sweeper (the broker may re-deliver long countdowns early)
TIMEOUT = (3.05, 10)
LINE_BATCH = 100


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GAVE_UP = "gave_up"
    WAITING = "waiting"
    BUSY = "busy"
    EMPTY = "empty"
    DISABLED = "disabled"


def next_delay(attempts: int) -> timedelta:
    return timedelta(seconds=SCHEDULE[min(attempts, len(SCHEDULE)) - 1])


def deliver_line(endpoint_id: int, reader_id: int, limit: int = LINE_BATCH) -> list[Outcome]:
    """Deliver the line's heads in turn until one must wait (or `limit`). Commits per try."""
    outcomes: list[Outcome] = []
    for _ in range(limit):
        outcome = deliver_head(endpoint_id, reader_id)
        outcomes.append(outcome)
        if outcome not in (Outcome.DELIVERED, Outcome.GAVE_UP):
            break
    else:
        enqueue_after_commit(DELIVER_TASK, endpoint_id, reader_id)  # a long line: continue in a fresh task
        checkpoint()
    return outcomes


def deliver_head(endpoint_id: int, reader_id: int) -> Outcome:
    """Try the head of one line once, if it is due. Commits (or rolls back) before returning."""
    endpoint = db.session.get(OutboundEndpoint, endpoint_id)
    if endpoint is None or endpoint.disabled_at is not None:
        db.session.rollback()
        return Outcome.DISABLED
    head_id = db.session.scalar(select(func.min(OutboundDelivery.id)).where(
        OutboundDelivery.endpoint_id == endpoint_id, OutboundDelivery.reader_id == reader_id,
        OutboundDelivery.status == DeliveryStatus.PENDING))
    if head_id is None:
        db.session.rollback()
        return Outcome.EMPTY
    row = db.session.scalar(select(OutboundDelivery).where(
        OutboundDelivery.id == head_id, OutboundDelivery.status == DeliveryStatus.PENDING)
        .with_for_update(skip_locked=True))
    if row is None:
        db.session.rollback()
        return Outcome.BUSY  # another worker holds this line's head (or just finished it)
    if row.next_attempt_at > utcnow():
        db.session.rollback()
        return Outcome.WAITING
    outcome = _attempt(endpoint, row)
    checkpoint()  # one transaction per try: the head's lock is held over the POST, released here
    return outcome


def _attempt(endpoint: OutboundEndpoint, row: OutboundDelivery) -> Outcome:
    event = row.event
    data = payloads.body(db.session(), event, endpoint)
    msg_id = payloads.message_id(event)
    started = time.monotonic()
    code: int | None = None
    error: str | None = None
    try:
        response = requests.post(endpoint.url, data=data, timeout=TIMEOUT, allow_redirects=False,
                                 headers=headers(unseal(endpoint.secret_sealed).decode(), msg_id, int(time.time()), data))
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:200]}"
        response.close()
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = utcnow()
    db.session.add(OutboundAttempt(delivery_id=row.id, endpoint_id=endpoint.id, attempted_at=now, status_code=code,
                                   error=error, duration_ms=int((time.monotonic() - started) * 1000)))
    row.attempts += 1
    row.last_status_code, row.last_error = code, error
    if error is None:
        row.status, row.delivered_at = DeliveryStatus.DELIVERED, now
        endpoint.consecutive_failures = 0
        return Outcome.DELIVERED
    delay = next_delay(row.attempts)
    if now + delay - event.occurred_at > GIVE_UP_AFTER:
        row.status = DeliveryStatus.FAILED
        _count_failure(endpoint)
        return Outcome.GAVE_UP
    row.next_attempt_at = now + delay
    if delay.total_seconds() < COUNTDOWN_UNDER:
        enqueue_after_commit(DELIVER_TASK, endpoint.id, row.reader_id, countdown=delay.total_seconds())
    return Outcome.RETRY


def _count_failure(endpoint: OutboundEndpoint) -> None:
    endpoint.consecutive_failures += 1
    if endpoint.consecutive_failures < DISABLE_AFTER or endpoint.disabled_at is not None:
        return
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = f"{endpoint.consecutive_failures} events in a row failed for three days"
    db.session.add(AuditLog(actor="system", action="webhook_endpoint.disabled", target_type="webhook_endpoint",
                            target_id=str(endpoint.id), details={"url": endpoint.url,
                                                                 "reason": endpoint.disabled_reason}))
    log.error("outbound webhook endpoint disabled", extra={"endpoint": endpoint.id, "url": endpoint.url,
                                                          "reason": endpoint.disabled_reason})


def due_lines(limit: int = 1000) -> list[tuple[int, int]]:
    """(endpoint, reader) lines of enabled endpoints whose head is due now."""
    heads = (select(func.min(OutboundDelivery.id).label("head"))
             .where(OutboundDelivery.status == DeliveryStatus.PENDING)
             .group_by(OutboundDelivery.endpoint_id, OutboundDelivery.reader_id).subquery())
    rows = db.session.execute(
        select(OutboundDelivery.endpoint_id, OutboundDelivery.reader_id)
        .join(heads, heads.c.head == OutboundDelivery.id)
        .join(OutboundEndpoint, and_(OutboundEndpoint.id == OutboundDelivery.endpoint_id,
                                     OutboundEndpoint.disabled_at.is_(None)))
        .where(OutboundDelivery.next_attempt_at <= utcnow())
        .order_by(OutboundDelivery.next_attempt_at).limit(limit)).all()
    return [(int(e), int(r)) for e, r in rows]
