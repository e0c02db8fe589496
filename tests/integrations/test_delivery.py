"""Delivery inline (no worker): Standard Webhooks signatures, scope, retry schedule,
order per member, giving up after three days, disabling, replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from membership.db import utcnow
from membership.enums import Stream
from membership.extensions import db
from membership.integrations import delivery
from membership.integrations.delivery import Outcome
from membership.integrations.models import DeliveryStatus, OutboundAttempt, OutboundDelivery, OutboundEvent
from membership.integrations.signing import headers, new_secret
from membership.staff.models import AuditLog
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.integrations.helpers import add_endpoint
from tests.integrations.receiver import Receiver


def _due_now() -> None:
    """Move the retry clock: every pending delivery is due."""
    db.session.execute(update(OutboundDelivery).where(OutboundDelivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_our_signature_is_the_standard_one() -> None:
    secret, body = new_secret(), b'{"type":"x"}'
    stamp = int(utcnow().timestamp())
    verified = Webhook(secret).verify(body, headers(secret, "evt_1", stamp, body))
    assert verified == {"type": "x"}
    with pytest.raises(Exception):  # noqa: B017  (the library raises its own verification error)
        Webhook(new_secret()).verify(body, headers(secret, "evt_1", stamp, body))


def test_receiver_verifies_signature_and_gets_the_spec_body(app: Flask, db_session: object,
                                                            receiver: Receiver) -> None:
    endpoint, secret = add_endpoint(app, receiver.url, "member.created")
    reader = ReaderFactory()
    db.session.commit()
    assert delivery.deliver_line(endpoint.id, reader.id) == [Outcome.DELIVERED, Outcome.EMPTY]
    (got,) = receiver.accepted()
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "member.created" and payload["timestamp"].endswith("Z")
    assert payload["data"] == {"member": {"id": reader.id}}  # no members:read: no email, no name
    assert got.headers["webhook-id"].startswith("evt_")


def test_members_read_scope_adds_email_and_name(app: Flask, db_session: object, receiver: Receiver) -> None:
    endpoint, secret = add_endpoint(app, receiver.url, "member.created", "members:read")
    reader = ReaderFactory()
    db.session.commit()
    delivery.deliver_line(endpoint.id, reader.id)
    payload = Webhook(secret).verify(receiver.accepted()[0].body, receiver.accepted()[0].headers)
    assert payload["data"]["member"] == {"id": reader.id, "email": reader.email, "name": reader.name}


def test_retries_back_off_in_order_and_log_each_try(app: Flask, db_session: object, receiver: Receiver) -> None:
    endpoint, _ = add_endpoint(app, receiver.url, "member.created,payment.succeeded")
    reader = ReaderFactory()
    PaymentFactory(reader_id=reader.id, stream=Stream.MEMBERSHIP)
    db.session.commit()
    receiver.failing = True
    waits = []
    for _ in range(4):
        started = utcnow()
        assert delivery.deliver_line(endpoint.id, reader.id) == [Outcome.RETRY]
        head = db.session.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id)).first()
        assert head is not None
        waits.append(round((head.next_attempt_at - started).total_seconds()))
        assert delivery.deliver_line(endpoint.id, reader.id) == [Outcome.WAITING]
        _due_now()
    assert waits == [5, 15, 30, 120]
    assert {r.json["type"] for r in receiver.requests} == {"member.created"}  # the line waited behind its head
    log = db.session.scalars(select(OutboundAttempt).where(OutboundAttempt.endpoint_id == endpoint.id)).all()
    assert [a.status_code for a in log] == [500] * 4
    receiver.failing = False
    assert delivery.deliver_line(endpoint.id, reader.id) == [Outcome.DELIVERED, Outcome.DELIVERED, Outcome.EMPTY]
    assert [r.json["type"] for r in receiver.accepted()] == ["member.created", "payment.succeeded"]


def test_three_days_of_failure_gives_up_and_disables_the_endpoint(app: Flask, db_session: object,
                                                                   receiver: Receiver) -> None:
    endpoint, _ = add_endpoint(app, receiver.url, "member.created")
    readers = [ReaderFactory() for _ in range(delivery.DISABLE_AFTER)]
    db.session.commit()
    db.session.execute(update(OutboundEvent).values(occurred_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    receiver.failing = True
    for reader in readers:
        assert delivery.deliver_line(endpoint.id, reader.id)[0] in (Outcome.GAVE_UP, Outcome.DISABLED)
    db.session.refresh(endpoint)
    assert endpoint.disabled_at is not None and "three days" in (endpoint.disabled_reason or "")
    alert = db.session.scalar(select(AuditLog).where(AuditLog.action == "webhook_endpoint.disabled"))
    assert alert is not None and alert.target_id == str(endpoint.id)
    failed = db.session.scalars(select(OutboundDelivery).where(OutboundDelivery.status == DeliveryStatus.FAILED)).all()
    assert len(failed) == delivery.DISABLE_AFTER
    # enabled again and replayed: everything arrives once the receiver is back
    receiver.failing = False
    assert app.test_cli_runner().invoke(args=["webhooks-out", "enable", str(endpoint.id)]).exit_code == 0
    result = app.test_cli_runner().invoke(args=["webhooks-out", "replay", str(endpoint.id), "--failed"])
    assert result.exit_code == 0 and f"{delivery.DISABLE_AFTER} delivery" in result.output
    for reader in readers:
        assert delivery.deliver_line(endpoint.id, reader.id)[0] == Outcome.DELIVERED
    assert len(receiver.accepted()) == delivery.DISABLE_AFTER


def test_due_lines_name_only_heads_that_are_due(app: Flask, db_session: object) -> None:
    endpoint, _ = add_endpoint(app, "http://127.0.0.1:9/x", "member.created,payment.succeeded")
    reader = ReaderFactory()
    PaymentFactory(reader_id=reader.id, stream=Stream.MEMBERSHIP)
    db.session.commit()
    assert (endpoint.id, reader.id) in delivery.due_lines()
    head = db.session.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id)).first()
    assert head is not None
    head.next_attempt_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    assert (endpoint.id, reader.id) not in delivery.due_lines()
