"""Billing behaviour over simulated time: prorations, trials, dunning, pauses, disputes won."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from stripe_sim import SimServer

from .conftest import DAY, add_months, event_types, latest_event_id, monthly_price

T0 = 1767225600  # 2026-01-01T00:00:00Z


def _setup(client: stripe.StripeClient, pm: str | None = "pm_card_visa", **sub_params: Any) -> tuple[Any, Any, Any]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    cus = client.v1.customers.create(params={"email": "b@example.com", "test_clock": clock.id})
    price = monthly_price(client, 1000)
    params: dict[str, Any] = {"customer": cus.id, "items": [{"price": price.id}], **sub_params}
    if pm:
        params["default_payment_method"] = pm
    sub = client.v1.subscriptions.create(params=params)
    return clock, cus, sub


def _advance(client: stripe.StripeClient, clock: Any, to: int) -> None:
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": to})


def test_price_change_always_invoice_prorates(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client)
    _advance(client, clock, T0 + 15 * DAY + 12 * 3600)  # half of January's 31 days
    dearer = client.v1.prices.create(params={"product": monthly_price(client).product, "currency": "usd",
                                             "unit_amount": 3000, "recurring": {"interval": "month"}})
    mark = latest_event_id(client)
    sub = client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": dearer.id}], "proration_behavior": "always_invoice",
        "expand": ["latest_invoice"]})
    inv = sub.latest_invoice
    assert inv.billing_reason == "subscription_update" and inv.status == "paid"
    amounts = [ln.amount for ln in inv.lines.data]
    assert amounts == [-500, 1500] and inv.amount_paid == 1000
    assert all(ln.parent.subscription_item_details.proration for ln in inv.lines.data)
    assert inv.lines.data[1].period.end == add_months(T0, 1)
    assert event_types(client, mark)[:2] == ["customer.subscription.updated", "invoice.created"]
    assert sub["items"].data[0].price.id == dearer.id


def test_create_prorations_land_on_next_invoice_and_none_skips(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client)
    _advance(client, clock, T0 + 15 * DAY + 12 * 3600)
    cheaper = client.v1.prices.create(params={"product": monthly_price(client).product, "currency": "usd",
                                              "unit_amount": 500, "recurring": {"interval": "month"}})
    si = sub["items"].data[0].id
    sub = client.v1.subscriptions.update(sub.id, params={"items": [{"id": si, "price": cheaper.id}],
                                                         "proration_behavior": "create_prorations"})
    assert client.v1.invoices.list(params={"subscription": sub.id}).data[0].billing_reason == "subscription_create"
    _advance(client, clock, add_months(T0, 1) + 60)
    renewal = client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert [ln.amount for ln in renewal.lines.data] == [500, -500, 250] and renewal.amount_paid == 250
    sub = client.v1.subscriptions.update(sub.id, params={"items": [{"id": si, "price": monthly_price(client).id}],
                                                         "proration_behavior": "none"})
    _advance(client, clock, add_months(T0, 2) + 60)
    assert [ln.amount for ln in client.v1.invoices.list(params={"subscription": sub.id}).data[0].lines.data] == [1000]


def test_trial_without_card_pauses_after_notice(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client, pm=None, trial_period_days=14,
                             trial_settings={"end_behavior": {"missing_payment_method": "pause"}})
    assert sub.status == "trialing" and sub.trial_end == T0 + 14 * DAY
    mark = latest_event_id(client)
    _advance(client, clock, T0 + 12 * DAY)
    assert event_types(client, mark) == ["customer.subscription.trial_will_end"]
    assert client.v1.events.list(params={"type": "customer.subscription.trial_will_end"}).data[0].created == \
        T0 + 11 * DAY
    _advance(client, clock, T0 + 15 * DAY)
    assert client.v1.subscriptions.retrieve(sub.id).status == "paused"
    assert event_types(client, mark)[-2:] == ["customer.subscription.paused", "customer.subscription.updated"]
    client.v1.customers.update(cus.id, params={"invoice_settings": {"default_payment_method": "pm_card_visa"}})
    resumed = client.v1.subscriptions.resume(sub.id, params={"expand": ["latest_invoice"]})
    assert resumed.status == "active" and resumed.latest_invoice.amount_paid == 1000


def test_trial_converts_with_card(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client, trial_period_days=7)
    _advance(client, clock, T0 + 7 * DAY + 60)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "active" and sub.latest_invoice.amount_paid == 1000
    assert sub["items"].data[0].current_period_end == add_months(T0 + 7 * DAY, 1)


def test_incomplete_expires_after_23_hours(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client, pm="pm_card_chargeDeclined")
    assert sub.status == "incomplete"
    _advance(client, clock, T0 + 22 * 3600)
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    _advance(client, clock, T0 + 24 * 3600)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "incomplete_expired" and sub.latest_invoice.status == "void"
    assert client.v1.subscriptions.list(params={"customer": cus.id}).data == []


def _dunning(client: stripe.StripeClient) -> tuple[Any, Any]:
    clock, cus, sub = _setup(client, pm="pm_card_chargeCustomerFail")
    assert sub.status == "active"  # on-session first payment works; off-session renewals fail
    renewal = add_months(T0, 1)
    _advance(client, clock, renewal + 60)
    inv = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (inv.attempt_count, inv.next_payment_attempt) == (1, renewal + 3 * DAY)
    for attempt, day in ((2, 3), (3, 8)):
        _advance(client, clock, renewal + day * DAY + 60)
        assert client.v1.invoices.retrieve(inv.id).attempt_count == attempt
        assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    _advance(client, clock, renewal + 15 * DAY + 60)
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.attempt_count, inv.next_payment_attempt, inv.status) == (4, None, "open")
    return sub, inv


def test_dunning_exhausted_cancels(client: stripe.StripeClient) -> None:
    sub, _inv = _dunning(client)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled" and sub.cancellation_details.reason == "payment_failed"
    failed = client.v1.events.list(params={"type": "invoice.payment_failed"}).data
    assert [e.data.object.attempt_count for e in failed] == [4, 3, 2, 1]


def test_dunning_exhausted_unpaid_when_configured(make_client: Callable[..., stripe.StripeClient]) -> None:
    sim = SimServer(webhook_secret="whsec_test", dunning_final="unpaid", retry_days=[3, 5, 7]).start()
    try:
        sub, inv = _dunning(make_client(sim))
        client = make_client(sim)
        assert client.v1.subscriptions.retrieve(sub.id).status == "unpaid"
        paid = client.v1.invoices.pay(inv.id, params={"payment_method": "pm_card_visa"})
        assert paid.status == "paid" and client.v1.subscriptions.retrieve(sub.id).status == "active"
    finally:
        sim.stop()


def test_pause_collection_voids_until_resumes_at(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client)
    resumes = add_months(T0, 2) + DAY
    client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "void", "resumes_at": resumes}})
    _advance(client, clock, add_months(T0, 1) + 60)
    inv = client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert inv.billing_reason == "subscription_cycle" and inv.status == "void"
    _advance(client, clock, resumes + 60)
    assert client.v1.subscriptions.retrieve(sub.id).pause_collection is None
    _advance(client, clock, add_months(T0, 3) + 60)
    assert client.v1.invoices.list(params={"subscription": sub.id}).data[0].status == "paid"


def test_cancel_now_and_upcoming(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client)
    _advance(client, clock, add_months(T0, 1) - 7 * DAY + 60)
    upcoming = client.v1.events.list(params={"type": "invoice.upcoming"}).data
    assert len(upcoming) == 1
    obj = upcoming[0].data.object
    assert obj.parent.subscription_details.subscription == sub.id and obj.amount_due == 1000
    assert obj.lines.data[0].period.start == add_months(T0, 1)
    canceled = client.v1.subscriptions.cancel(sub.id, params={"cancellation_details": {"comment": "moving"}})
    assert canceled.status == "canceled" and canceled.cancellation_details.comment == "moving"
    assert client.v1.events.list(params={"limit": 1}).data[0].type == "customer.subscription.deleted"


def test_dispute_won_reinstates_funds(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 5000, "currency": "usd", "confirm": True,
                                                  "payment_method": "pm_card_createDispute"})
    dispute = client.v1.disputes.list(params={"payment_intent": pi.id}).data[0]
    mark = latest_event_id(client)
    client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "winning_evidence"}})
    dispute = client.v1.disputes.retrieve(dispute.id)
    assert dispute.status == "won"
    assert [(t.amount, t.fee, t.reporting_category) for t in dispute.balance_transactions] == [
        (-5000, 1500, "dispute"), (5000, -1500, "dispute_reversal")]
    assert event_types(client, mark) == ["charge.dispute.updated", "charge.dispute.funds_reinstated",
                                         "charge.dispute.closed"]


def test_create_preview_next_invoice_and_proration(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client)
    nxt = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert (nxt.amount_due, nxt.billing_reason) == (1000, "upcoming")
    assert nxt.lines.data[0].period.start == add_months(T0, 1)
    assert nxt.parent.subscription_details.subscription == sub.id
    _advance(client, clock, T0 + 15 * DAY + 12 * 3600)
    dearer = client.v1.prices.create(params={"product": monthly_price(client).product, "currency": "usd",
                                             "unit_amount": 3000, "recurring": {"interval": "month"}})
    change = client.v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"id": sub["items"].data[0].id, "price": dearer.id}], "proration_behavior": "always_invoice"}})
    assert [ln.amount for ln in change.lines.data] == [-500, 1500] and change.amount_due == 1000
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id != dearer.id  # nothing changed


def test_pause_collection_cleared_by_update_and_default_pm_change(client: stripe.StripeClient) -> None:
    clock, cus, sub = _setup(client)
    client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "mark_uncollectible"}})
    _advance(client, clock, add_months(T0, 1) + 60)
    assert client.v1.invoices.list(params={"subscription": sub.id}).data[0].status == "uncollectible"
    mark = latest_event_id(client)
    upd = client.v1.subscriptions.update(sub.id, params={"pause_collection": "",
                                                         "default_payment_method": "pm_card_mastercard"})
    assert upd.pause_collection is None and upd.default_payment_method.startswith("pm_")
    evt = client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 1}).data[0]
    assert evt.data.previous_attributes.pause_collection.behavior == "mark_uncollectible"
    assert event_types(client, mark) == ["payment_method.attached", "customer.subscription.updated"]
    _advance(client, clock, add_months(T0, 2) + 60)
    paid = client.v1.invoices.list(params={"subscription": sub.id, "expand": ["data.payments"]}).data[0]
    assert paid.status == "paid"
    pi = client.v1.payment_intents.retrieve(paid.payments.data[0].payment.payment_intent)
    assert pi.payment_method == upd.default_payment_method
