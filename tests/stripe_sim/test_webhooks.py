"""Webhook delivery: Stripe-exact signatures, retries with backoff, filters, fault injection."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
import stripe

from stripe_sim import SimServer

from .conftest import DAY, SECRET, Receiver, monthly_price


def _verify_all(receiver: Receiver, secret: str = SECRET) -> list[stripe.Event]:
    events = []
    for headers, body in receiver.hits:
        assert headers["Content-Type"].startswith("application/json")
        events.append(stripe.Webhook.construct_event(body, headers["Stripe-Signature"], secret))
    return events


def test_every_delivery_verifies_and_arrives_in_order(sim: SimServer, client: stripe.StripeClient,
                                                      receiver: Receiver) -> None:
    endpoint_id = sim.add_webhook_endpoint(receiver.url)
    assert endpoint_id.startswith("we_")
    price = monthly_price(client)
    cus = client.v1.customers.create(params={"email": "hook@example.com"})
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_visa"})
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert sim.wait_for_deliveries(10)
    delivered = _verify_all(receiver)
    listed = list(reversed(list(client.v1.events.list(params={"limit": 100}).auto_paging_iter())))
    assert [e.id for e in delivered] == [e.id for e in listed]
    assert len(delivered) == 14
    upd = [e for e in delivered if e.type == "customer.subscription.updated"][-1]
    assert upd.data.previous_attributes.cancel_at_period_end is False
    assert upd.data.object.cancel_at_period_end is True
    assert all(e.api_version == stripe.api_version and e.livemode is False for e in delivered)
    assert delivered[0].request.id.startswith("req_")
    assert {d["status_code"] for d in sim.deliveries} == {200}
    assert all(e.pending_webhooks == 0 for e in client.v1.events.list(params={"limit": 100}).data)
    assert len(client.v1.events.list(params={"delivery_success": False}).data) == 0
    with pytest.raises(stripe.SignatureVerificationError):
        headers, body = receiver.hits[0]
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_wrong")


def test_retries_with_backoff_until_2xx(sim: SimServer, client: stripe.StripeClient) -> None:
    flaky = Receiver(fail_first=2)
    try:
        sim.add_webhook_endpoint(flaky.url)
        started = time.monotonic()
        cus = client.v1.customers.create(params={"email": "retry@example.com"})
        deadline = time.monotonic() + 5
        while not sim.deliveries and time.monotonic() < deadline:
            time.sleep(0.01)
        failing = client.v1.events.list(params={"delivery_success": False}).data
        assert [e.type for e in failing] == ["customer.created"] and failing[0].pending_webhooks == 1
        assert sim.wait_for_deliveries(10)
        elapsed = time.monotonic() - started
        attempts = [(d["attempt"], d["status_code"]) for d in sim.deliveries]
        assert attempts == [(1, 500), (2, 500), (3, 200)]
        assert elapsed >= 1.2  # 0.2 s then 1 s of (compressed) backoff
        evt = _verify_all(flaky)[-1]
        assert evt.data.object.id == cus.id
        assert client.v1.events.list(params={"delivery_success": True}).data[0].pending_webhooks == 0
    finally:
        flaky.close()


def test_gives_up_after_bounded_retries(make_client: Callable[[SimServer], stripe.StripeClient]) -> None:
    dead = Receiver(fail_first=1000)
    sim = SimServer(webhook_secret=SECRET, webhook_retry_delays=(0.05, 0.05)).start()
    try:
        sim.add_webhook_endpoint(dead.url)
        client = make_client(sim)
        client.v1.customers.create(params={"email": "dead@example.com"})
        assert sim.wait_for_deliveries(5)
        assert [d["attempt"] for d in sim.deliveries] == [1, 2, 3]
        assert [e.type for e in client.v1.events.list(params={"delivery_success": False}).data] == ["customer.created"]
    finally:
        sim.stop()
        dead.close()


def test_enabled_events_filter_and_sim_secret(sim: SimServer, client: stripe.StripeClient,
                                              receiver: Receiver) -> None:
    ep = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["customer.created"],
                                                    "metadata": {"team": "revenue"}})
    assert ep.secret == SECRET and ep.metadata.team == "revenue"
    assert not hasattr(client.v1.webhook_endpoints.retrieve(ep.id), "secret")
    client.v1.customers.create(params={"email": "a@example.com"})
    monthly_price(client)
    assert sim.wait_for_deliveries(5)
    assert [e.type for e in _verify_all(receiver)] == ["customer.created"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": "http://192.0.2.1/hook", "enabled_events": ["*"]})


def test_fault_injection_duplicates_and_shuffles(make_client: Callable[[SimServer], stripe.StripeClient]) -> None:
    receiver = Receiver()
    sim = SimServer(webhook_secret=SECRET,
                    faults={"duplicate_rate": 1.0, "shuffle": True, "max_delay_ms": 30, "seed": 7}).start()
    try:
        client = make_client(sim)
        sim.add_webhook_endpoint(receiver.url)
        made = [client.v1.customers.create(params={"email": f"c{i}@example.com"}).id for i in range(12)]
        assert sim.wait_for_deliveries(10)
        events = _verify_all(receiver)
        counts = Counter(e.id for e in events)
        assert len(counts) == 12 and set(counts.values()) == {2}
        seen = [e.data.object.id for e in events]
        first_seen = list(dict.fromkeys(seen))
        assert sorted(first_seen) == sorted(made)
        assert first_seen != made or seen[::2] != made  # order was disturbed
        assert all(e.pending_webhooks == 0 for e in client.v1.events.list(params={"limit": 100}).data)
    finally:
        sim.stop()
        receiver.close()


def test_event_filters_and_30_day_retention(sim: SimServer, client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "f@example.com"})
    client.v1.customers.update(cus.id, params={"name": "Fiona"})
    monthly_price(client)
    assert [e.type for e in client.v1.events.list(params={"type": "customer.*"}).data] == [
        "customer.updated", "customer.created"]
    both = client.v1.events.list(params={"types": ["product.created", "price.created"]}).data
    assert [e.type for e in both] == ["price.created", "product.created"]
    upd = client.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert upd.data.previous_attributes.name is None and upd.data.object.name == "Fiona"
    assert client.v1.events.retrieve(upd.id).id == upd.id
    now = sim.now()
    assert len(client.v1.events.list(params={"created": {"gte": now + 10}}).data) == 0
    assert len(client.v1.events.list(params={"created": {"lte": now + 10}}).data) == 4
    sim.advance_clock(31 * DAY)
    client.v1.customers.create(params={"email": "later@example.com"})
    assert [e.type for e in client.v1.events.list(params={"limit": 100}).data] == ["customer.created"]
