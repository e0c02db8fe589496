"""Subscription state from events: re-fetch through the real SDK against stripe_sim,
upsert, never older-over-newer, canceled is terminal, unknown readers retry then die."""

from __future__ import annotations

import json
from itertools import permutations
from typing import Any

import requests
from sqlalchemy import func, select

from membership.billing import processing, subscriptions
from membership.billing.gateway import stripe_client
from membership.billing.models import CheckoutSession, CheckoutStatus, Subscription, SubscriptionEvent, WebhookEvent
from membership.billing.models import WebhookStatus as WS
from membership.enums import MrrMovement, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice
from membership.staff.services import create_staff_user

from .webhook_support import (
    deliver,
    deliver_and_process,
    event_body,
    latest_event_id,
    make_reader,
    post,
    sim_customer,
    sim_events_since,
    sim_price,
)


def _subscribe(reader: Reader, amount: int = 1000, interval: str = "month", **params: Any) -> Any:
    customer = sim_customer(reader)
    price = sim_price(amount, interval)
    return stripe_client().v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price.id}], "metadata": {"reader_id": str(reader.id)},
        **params})


def _sub_row(stripe_id: str) -> Subscription:
    return db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == stripe_id)).one()


def _movements(sub: Subscription) -> list[tuple[str, int]]:
    rows = db.session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.subscription_id == sub.id)
                              .order_by(SubscriptionEvent.id))
    return [(r.kind.value, r.mrr_delta_minor) for r in rows]


def test_created_event_upserts_from_the_refetched_subscription(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    sub = _subscribe(reader, 1200)
    # the payload is deliberately stale/thin: the worker must re-fetch, not trust it
    body = event_body("customer.subscription.created", {"id": sub.id, "object": "subscription", "status": "incomplete"})
    response = post(client, body)
    row_id = db.session.scalars(select(WebhookEvent.id)).one()
    assert response.status_code == 200
    assert processing.process(row_id) == (processing.Outcome.PROCESSED, 0)
    local = _sub_row(sub.id)
    item = sub["items"].data[0]
    assert local.status is SubscriptionStatus.ACTIVE and local.reader_id == reader.id
    assert int(local.current_period_start.timestamp()) == item.current_period_start
    assert int(local.current_period_end.timestamp()) == item.current_period_end
    assert (local.unit_amount_minor, local.currency, local.mrr_minor) == (1200, "USD", 1200)
    assert _movements(local) == [("new", 1200)]
    assert db.session.get(WebhookEvent, row_id).status is WS.PROCESSED
    # the same row again, and the same event posted again: nothing new
    assert processing.process(row_id)[0] is processing.Outcome.SKIPPED
    assert post(client, body).get_json()["duplicate"] is True
    assert _movements(local) == [("new", 1200)]


def test_out_of_order_updates_end_in_stripes_current_state(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    sub = _subscribe(reader)
    marker = latest_event_id()
    stripe_client().v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    newer = sim_events_since(marker, {sub.id})
    assert [e["type"] for e in newer] == ["customer.subscription.updated"]
    created = event_body("customer.subscription.created", {"id": sub.id, "object": "subscription"},
                         created=newer[0]["created"] - 5)
    # newest first, then the older "created": the older event must not undo the schedule
    deliver_and_process(client, newer)
    assert processing.process(deliver(client, json.loads(created)))[0] is processing.Outcome.PROCESSED
    local = _sub_row(sub.id)
    assert local.cancel_at_period_end is True and local.status is SubscriptionStatus.ACTIVE
    assert _movements(local) == [("new", 1000)]  # scheduled cancellation is not churn yet
    notices = db.session.scalars(select(Notice).where(Notice.kind == "cancellation_confirmation")).all()
    assert [n.reader_id for n in notices] == [reader.id]


def test_canceled_is_terminal_and_never_revived(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    sub = _subscribe(reader)
    active_snapshot = stripe_client().v1.subscriptions.retrieve(sub.id).to_dict(recursive=True, for_json=True)
    deliver_and_process(client, [json.loads(event_body("customer.subscription.created", active_snapshot))])
    marker = latest_event_id()
    stripe_client().v1.subscriptions.cancel(sub.id, params={"cancellation_details": {"feedback": "too_expensive"}})
    outcomes = deliver_and_process(client, sim_events_since(marker, {sub.id}))
    assert outcomes == [processing.Outcome.PROCESSED]
    local = _sub_row(sub.id)
    assert local.status is SubscriptionStatus.CANCELED and local.mrr_minor == 0
    assert (local.cancellation_reason, local.cancellation_feedback) == ("cancellation_requested", "too_expensive")
    assert _movements(local) == [("new", 1000), ("churn_voluntary", -1000)]
    # a stale active state (an old payload, a lagging replica) must not revive it
    subscriptions.upsert(active_snapshot, local.updated_at)
    db.session.commit()
    local = _sub_row(sub.id)
    assert local.status is SubscriptionStatus.CANCELED and local.mrr_minor == 0
    assert _movements(local) == [("new", 1000), ("churn_voluntary", -1000)]


def test_unknown_reader_retries_with_backoff_then_dies_and_staff_see_it(client: Any, stripe_sim: Any) -> None:
    customer = sim_customer(None)  # a customer no reader is linked to, no reader_id anywhere
    price = sim_price(700)
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    row_id = deliver(client, json.loads(event_body("customer.subscription.created",
                                                   {"id": sub.id, "object": "subscription"})))
    outcome, delay = processing.process(row_id, max_attempts=3)
    row = db.session.get(WebhookEvent, row_id)
    assert (outcome, delay, row.status, row.attempts) == (processing.Outcome.RETRY, 15, WS.FAILED, 1)
    assert row.next_attempt_at is not None and "retry later" in (row.last_error or "")
    assert processing.process(row_id, max_attempts=3) == (processing.Outcome.RETRY, 30)
    assert processing.process(row_id, max_attempts=3)[0] is processing.Outcome.DEAD
    assert db.session.get(WebhookEvent, row_id).status is WS.DEAD
    assert processing.process(row_id)[0] is processing.Outcome.SKIPPED
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0

    from membership.enums import StaffRole

    _user, token = create_staff_user("finance@example.com", StaffRole.FINANCE)
    db.session.commit()
    assert client.get("/api/staff/webhook-events?status=dead").status_code == 401
    assert client.get("/api/staff/webhook-events", headers={"Authorization": "Bearer nope"}).status_code == 401
    listed = client.get("/api/staff/webhook-events?status=dead", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    events = listed.get_json()["events"]
    assert [e["id"] for e in events] == [row_id] and events[0]["attempts"] == 3
    bad = client.get("/api/staff/webhook-events?status=zombie", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 422


def _checkout(reader: Reader, http: requests.Session) -> tuple[Any, str]:
    """A real hosted Checkout on the sim for a reader whose customer carries reader_id
    (created before Checkout) but who is not linked locally yet."""
    customer = sim_customer(reader, link=False)
    price = sim_price(1500)
    session = stripe_client().v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id, "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "http://127.0.0.1:9/ok", "cancel_url": "http://127.0.0.1:9/no",
        "client_reference_id": str(reader.id), "metadata": {"reader_id": str(reader.id)},
        "subscription_data": {"metadata": {"reader_id": str(reader.id)}}})
    db.session.add(CheckoutSession(reader_id=reader.id, stripe_session_id=session.id, idempotency_key=session.id,
                                   mode="subscription", amount_minor=1500, currency="USD", url=session.url))
    db.session.commit()
    assert http.post(session.url, data={"card_number": "4242424242424242"}, allow_redirects=False).status_code == 303
    return session, customer.id


def test_every_order_of_subscription_invoice_and_checkout_events_ends_the_same(client: Any, stripe_sim: Any) -> None:
    """STRIPE.md race: subscription and invoice events before checkout.session.completed."""
    wanted = ("customer.subscription.created", "invoice.payment_succeeded", "checkout.session.completed")
    with requests.Session() as http:
        for order in permutations(range(3)):
            reader = make_reader()
            marker = latest_event_id()
            session, customer_id = _checkout(reader, http)
            events = [e for e in sim_events_since(marker, {customer_id, session.id}) if e["type"] in wanted]
            assert sorted(e["type"] for e in events) == sorted(wanted)
            outcomes = deliver_and_process(client, [events[i] for i in order])
            assert set(outcomes) == {processing.Outcome.PROCESSED}, order
            db.session.refresh(reader)
            local = db.session.scalars(select(Subscription).where(Subscription.reader_id == reader.id)).one()
            assert reader.stripe_customer_id == customer_id
            assert (local.status, local.mrr_minor) == (SubscriptionStatus.ACTIVE, 1500)
            assert _movements(local) == [("new", 1500)], order
            cs = db.session.scalars(select(CheckoutSession).where(CheckoutSession.stripe_session_id == session.id)).one()
            assert cs.status is CheckoutStatus.COMPLETE and cs.completed_at is not None


def test_subscription_event_before_the_reader_exists_is_retried_then_succeeds(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(None)
    price = sim_price(900)
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    row_id = deliver(client, json.loads(event_body("customer.subscription.created",
                                                   {"id": sub.id, "object": "subscription"})))
    assert processing.process(row_id)[0] is processing.Outcome.RETRY
    reader.stripe_customer_id = customer.id  # checkout.session.completed linked it meanwhile
    db.session.commit()
    assert processing.process(row_id)[0] is processing.Outcome.PROCESSED
    assert _sub_row(sub.id).reader_id == reader.id
    assert db.session.scalar(select(func.count()).select_from(SubscriptionEvent)
                             .where(SubscriptionEvent.kind == MrrMovement.NEW)) == 1
