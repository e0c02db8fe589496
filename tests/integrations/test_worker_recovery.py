"""A receiver that fails for an hour gets every event once it recovers, in order per
member, from a real Celery worker. "An hour" is the retry schedule's time: the test
moves each line's next try into the past instead of sleeping, until every head has
been refused enough times to span more than an hour of back-off."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from membership.db import utcnow
from membership.enums import Stream
from membership.extensions import db
from membership.integrations import delivery
from membership.integrations.models import DeliveryStatus, OutboundDelivery, OutboundEvent
from membership.queue import enqueue
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.integrations.helpers import add_endpoint
from tests.integrations.receiver import Receiver
from tests.support.worker import wait_until

HOUR_OF_TRIES = next(n for n in range(1, 20)
                     if sum(delivery.next_delay(k).total_seconds() for k in range(1, n + 1)) > 3600)


def _facts(readers: list[Any]) -> None:
    for reader in readers:
        PaymentFactory(reader_id=reader.id, stream=Stream.ONE_TIME_DONATION)
    db.session.commit()


def _sweep_now() -> None:
    """Move the retry clock past every pending try, then what beat's sweeper does."""
    db.session.execute(update(OutboundDelivery).where(OutboundDelivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    for endpoint_id, reader_id in delivery.due_lines():
        enqueue("workers.tasks.integrations.deliver", endpoint_id, reader_id)


def _fewest_head_tries() -> int:
    heads = (select(func.min(OutboundDelivery.id)).where(OutboundDelivery.status == DeliveryStatus.PENDING)
             .group_by(OutboundDelivery.reader_id))
    tries = db.session.scalars(select(OutboundDelivery.attempts).where(OutboundDelivery.id.in_(heads))).all()
    db.session.rollback()
    return min(tries, default=0)


def test_failing_receiver_gets_everything_in_order_after_an_hour(app: Flask, committed_db: None, receiver: Receiver,
                                                                  start_worker: Callable[..., Any]) -> None:
    receiver.failing = True
    endpoint, _ = add_endpoint(app, receiver.url, "member.created,payment.succeeded,donation.received")
    start_worker(queues="default", concurrency=4)
    readers = [ReaderFactory() for _ in range(3)]
    db.session.commit()
    _facts(readers)
    for round_ in range(HOUR_OF_TRIES + 2):  # bounded: each round is one more refused try per line
        if _fewest_head_tries() >= HOUR_OF_TRIES:
            break
        before = _fewest_head_tries()
        _sweep_now()
        assert wait_until(lambda b=before: _fewest_head_tries() > b, timeout=30), f"round {round_}: no progress"
        if round_ == 2:
            _facts(readers)  # more facts arrive during the outage
    assert _fewest_head_tries() >= HOUR_OF_TRIES
    assert not receiver.accepted()
    receiver.failing = False
    _sweep_now()

    def all_delivered() -> bool:
        pending = db.session.scalar(select(func.count()).select_from(OutboundDelivery).where(
            OutboundDelivery.status != DeliveryStatus.DELIVERED))
        db.session.rollback()
        return pending == 0

    assert wait_until(all_delivered, timeout=60)
    rows = db.session.execute(select(OutboundEvent.id, OutboundEvent.reader_id).order_by(OutboundEvent.id)).all()
    accepted = [int(r.headers["webhook-id"].removeprefix("evt_")) for r in receiver.accepted()]
    assert sorted(accepted) == [event_id for event_id, _ in rows]  # every event, exactly once
    owner = {event_id: reader_id for event_id, reader_id in rows}
    per_member: dict[int, list[int]] = defaultdict(list)
    for event_id in accepted:
        per_member[owner[event_id]].append(event_id)
    assert len(per_member) == 3 and all(ids == sorted(ids) and len(ids) == 5 for ids in per_member.values())
    assert endpoint.id is not None
