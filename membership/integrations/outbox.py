"""The outbox: an event is a row first, in the transaction that changed the fact.

`emit` writes the event and one delivery row for each enabled endpoint that wants its
type, then asks for delivery after the commit (a rollback drops both the rows and the
request). A lost broker message loses nothing: beat's sweeper finds due deliveries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.db import utcnow
from membership.integrations.models import DeliveryStatus, OutboundDelivery, OutboundEndpoint, OutboundEvent
from membership.queue import enqueue_after_commit

EVENT_TYPES: dict[str, str] = {
    "member.created": "A reader confirmed their address (the first time).",
    "member.updated": "A confirmed reader's name or email changed.",
    "member.deleted": "A reader was erased (their personal data is gone).",
    "subscription.started": "A subscription became live (trialing, active).",
    "subscription.changed": "A live subscription's status, price, quantity or scheduled cancellation changed.",
    "subscription.canceled": "A subscription ended.",
    "payment.succeeded": "A charge settled (membership, recurring or one-time gift).",
    "payment.refunded": "A refund of a payment succeeded.",
    "donation.received": "A gift's payment settled (one-time or recurring donation).",
    "newsletter.subscribed": "A reader's newsletter opt-in was confirmed.",
    "newsletter.unsubscribed": "A reader left a newsletter.",
}
DELIVER_TASK = "workers.tasks.integrations.deliver"


def check_types(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    return sorted(set(types))


_ENDPOINTS = "membership.integrations.enabled_endpoints"


def enabled_endpoints(session: Session) -> list[OutboundEndpoint]:
    """The enabled endpoints, read once per transaction: the webhook worker and the
    senders flush many facts per transaction, and most outlets have no endpoint at all.
    Forgotten at commit and rollback (capture.py), so a change is seen by the next one."""
    cached = session.info.get(_ENDPOINTS)
    if cached is None:
        cached = session.info[_ENDPOINTS] = list(
            session.scalars(select(OutboundEndpoint).where(OutboundEndpoint.disabled_at.is_(None))))
    return list(cached)


def forget_endpoints(session: Session) -> None:
    session.info.pop(_ENDPOINTS, None)


def emit(session: Session, type_: str, reader_id: int, data: dict[str, Any]) -> OutboundEvent | None:
    """Record one event for every enabled endpoint subscribed to `type_` (None when no
    endpoint wants it: nothing to deliver, nothing kept). Adds rows; the caller's flush
    or commit writes them."""
    assert type_ in EVENT_TYPES, type_
    endpoints = [e for e in enabled_endpoints(session) if type_ in e.event_types]
    if not endpoints:
        return None
    now = utcnow()
    event = OutboundEvent(type=type_, reader_id=reader_id, data=data, occurred_at=now)
    session.add(event)
    for endpoint in endpoints:
        delivery = OutboundDelivery(endpoint_id=endpoint.id, event=event, reader_id=reader_id,
                                    status=DeliveryStatus.PENDING, next_attempt_at=now)
        session.add(delivery)
        enqueue_after_commit(DELIVER_TASK, endpoint.id, reader_id)
    return event
