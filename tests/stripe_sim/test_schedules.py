"""Subscription schedules through the SDK, on a test clock: a plan change at period end, release, cancel."""

from __future__ import annotations

from typing import Any

import stripe

from .conftest import add_months, event_types, latest_event_id, monthly_price

T0 = 1767225600  # 2026-01-01T00:00:00Z


def _sub(client: stripe.StripeClient, amount: int = 2000) -> tuple[Any, Any, Any]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    cus = client.v1.customers.create(params={"email": "s@example.com", "test_clock": clock.id})
    price = monthly_price(client, amount)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_visa"})
    return clock, price, sub


def _advance(client: stripe.StripeClient, clock: Any, to: int) -> None:
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": to})


def test_downgrade_at_period_end(client: stripe.StripeClient) -> None:
    clock, dear, sub = _sub(client)
    cheap = monthly_price(client, 1000)
    since = latest_event_id(client)
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    assert (sched.status, sched.subscription, sched.end_behavior) == ("active", sub.id, "release")
    assert (sched.current_phase.start_date, sched.current_phase.end_date) == (T0, add_months(T0, 1))
    assert [(it.price, it.quantity) for it in sched.phases[0]["items"]] == [(dear.id, 1)]
    assert client.v1.subscriptions.retrieve(sub.id).schedule == sched.id
    sched = client.v1.subscription_schedules.update(sched.id, params={"phases": [
        {"items": [{"price": dear.id, "quantity": 1}], "start_date": T0, "end_date": add_months(T0, 1)},
        {"items": [{"price": cheap.id, "quantity": 1}], "duration": {"interval": "month", "interval_count": 1}},
    ]})
    assert [ph.end_date for ph in sched.phases] == [add_months(T0, 1), add_months(T0, 2)]
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == dear.id  # not yet
    assert event_types(client, since) == ["subscription_schedule.created", "customer.subscription.updated",
                                          "subscription_schedule.updated"]
    since = latest_event_id(client)
    _advance(client, clock, add_months(T0, 1) + 60)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub["items"].data[0].price.id == cheap.id
    assert (sub.latest_invoice.total, sub.latest_invoice.billing_reason) == (1000, "subscription_cycle")
    sched = client.v1.subscription_schedules.retrieve(sched.id)
    assert sched.current_phase.start_date == add_months(T0, 1)
    types = event_types(client, since)
    assert types.index("subscription_schedule.updated") < types.index("invoice.created")
    _advance(client, clock, add_months(T0, 2) + 60)
    sched = client.v1.subscription_schedules.retrieve(sched.id)
    assert (sched.status, sched.completed_at, sched.current_phase) == ("completed", add_months(T0, 2), None)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert (sub.status, sub.schedule, sub.latest_invoice.total) == ("active", None, 1000)
    assert "subscription_schedule.completed" in event_types(client, since)


def test_release_and_cancel(client: stripe.StripeClient) -> None:
    _clock, _price, sub = _sub(client)
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    since = latest_event_id(client)
    sched = client.v1.subscription_schedules.release(sched.id)
    assert (sched.status, sched.released_subscription, sched.subscription) == ("released", sub.id, None)
    assert client.v1.subscriptions.retrieve(sub.id).schedule is None
    assert event_types(client, since) == ["subscription_schedule.released", "customer.subscription.updated"]
    try:
        client.v1.subscription_schedules.release(sched.id)
        raise AssertionError("a released schedule cannot be released again")
    except stripe.InvalidRequestError as exc:
        assert exc.http_status == 400
    again = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    again = client.v1.subscription_schedules.cancel(again.id)
    assert again.status == "canceled" and client.v1.subscriptions.retrieve(sub.id).status == "canceled"


def test_end_behavior_cancel(client: stripe.StripeClient) -> None:
    clock, _price, sub = _sub(client)
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    client.v1.subscription_schedules.update(sched.id, params={"end_behavior": "cancel"})
    _advance(client, clock, add_months(T0, 1) + 60)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled" and sub.ended_at == add_months(T0, 1)
    assert len(client.v1.invoices.list(params={"subscription": sub.id}).data) == 1  # no renewal
    assert client.v1.subscription_schedules.retrieve(sched.id).status == "completed"


def test_schedule_for_a_new_customer(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "n@example.com"})
    client.v1.payment_methods.attach("pm_card_visa", params={"customer": cus.id})
    pm = client.v1.payment_methods.list(params={"customer": cus.id}).data[0]
    client.v1.customers.update(cus.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    price = monthly_price(client, 1500)
    sched = client.v1.subscription_schedules.create(params={
        "customer": cus.id, "start_date": "now", "phases": [{"items": [{"price": price.id}]}]})
    assert sched.status == "active" and sched.subscription
    listed = client.v1.subscription_schedules.list(params={"customer": cus.id}).data
    assert [s.id for s in listed] == [sched.id]


def test_shape_matches_fixture(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    _clock, _price, sub = _sub(client)
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub.id}).to_dict()
    ref = official_shapes["subscription_schedule"]
    assert set(sched) == set(ref)
    assert set(sched["phases"][0]) == set(ref["phases"][0])
    assert set(sched["phases"][0]["items"][0]) == set(ref["phases"][0]["items"][0])
    assert set(sched["default_settings"]) == set(ref["default_settings"])
