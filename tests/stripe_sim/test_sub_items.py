"""Subscription items through the SDK: add, change, remove, with prorations and events."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_sim import SimServer

from .conftest import DAY, add_months, event_types, latest_event_id, monthly_price


def _sub(client: stripe.StripeClient, amount: int = 1000) -> Any:
    price = monthly_price(client, amount)
    cus = client.v1.customers.create(params={"email": "si@example.com"})
    return client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                  "default_payment_method": "pm_card_visa"})


def _half_month(sim: SimServer, sub: Any) -> tuple[int, int]:
    start = sub["items"].data[0].current_period_start
    end = add_months(start, 1)
    sim.advance_clock(start + (end - start) // 2 - sim.now())
    return start, end


def test_add_item_prorates_and_renews_with_both(sim: SimServer, client: stripe.StripeClient) -> None:
    sub = _sub(client)
    extra = monthly_price(client, 600, name="Extra seat")
    start, end = _half_month(sim, sub)
    since = latest_event_id(client)
    si = client.v1.subscription_items.create(params={"subscription": sub.id, "price": extra.id, "quantity": 2})
    assert (si.subscription, si.quantity, si.price.id, si.current_period_end) == (sub.id, 2, extra.id, end)
    listed = client.v1.subscription_items.list(params={"subscription": sub.id}).data
    assert {i.id for i in listed} == {sub["items"].data[0].id, si.id}
    assert event_types(client, since) == ["customer.subscription.updated"]
    evts = list(client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 1}).data)
    assert len(evts[0].data.previous_attributes["items"]["data"]) == 1
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    pro = [ln.amount for ln in preview.lines.data if ln.parent.subscription_item_details
           and ln.parent.subscription_item_details.proration]
    assert len(pro) == 1 and abs(pro[0] - 600) <= 30  # half of 2 x 600
    sim.advance_clock(end - sim.now() + 60)
    inv = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert inv.total == 1000 + 1200 + pro[0] and inv.status == "paid"


def test_update_quantity_and_delete(sim: SimServer, client: stripe.StripeClient) -> None:
    sub = _sub(client)
    extra = monthly_price(client, 500, name="Add-on")
    si = client.v1.subscription_items.create(params={"subscription": sub.id, "price": extra.id,
                                                     "proration_behavior": "none"})
    si = client.v1.subscription_items.update(si.id, params={"quantity": 3, "proration_behavior": "none",
                                                            "metadata": {"k": "v"}})
    assert (si.quantity, si.metadata["k"]) == (3, "v")
    sim.advance_clock(5 * DAY)
    gone = client.v1.subscription_items.delete(si.id, params={"proration_behavior": "always_invoice"})
    assert gone.deleted is True
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert [i.price.unit_amount for i in sub["items"].data] == [1000]
    credit = sub.latest_invoice
    assert credit.billing_reason == "subscription_update" and credit.total < 0
    assert client.v1.customers.retrieve(sub.customer).balance == credit.total
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_items.retrieve(si.id)
    with pytest.raises(stripe.InvalidRequestError) as last:
        client.v1.subscription_items.delete(sub["items"].data[0].id)
    assert "at least one" in str(last.value)


def test_subscription_update_adds_and_removes_items(client: stripe.StripeClient) -> None:
    sub = _sub(client)
    extra = monthly_price(client, 300, name="Extra")
    sub = client.v1.subscriptions.update(sub.id, params={"items": [{"price": extra.id}],
                                                         "proration_behavior": "none"})
    assert sorted(i.price.unit_amount for i in sub["items"].data) == [300, 1000]
    added = next(i for i in sub["items"].data if i.price.id == extra.id)
    sub = client.v1.subscriptions.update(sub.id, params={"items": [{"id": added.id, "deleted": True}],
                                                         "proration_behavior": "none"})
    assert [i.price.unit_amount for i in sub["items"].data] == [1000]


def test_refusals(client: stripe.StripeClient) -> None:
    sub = _sub(client)
    yearly = monthly_price(client, 9000, interval="year", name="Yearly")
    with pytest.raises(stripe.InvalidRequestError) as interval:
        client.v1.subscription_items.create(params={"subscription": sub.id, "price": yearly.id})
    assert interval.value.param == "price"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_items.create(params={"subscription": sub.id, "price": sub["items"].data[0].price.id})


def test_deleted_shape(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    sub = _sub(client)
    extra = monthly_price(client, 300, name="Extra")
    si = client.v1.subscription_items.create(params={"subscription": sub.id, "price": extra.id})
    assert set(si.to_dict()) == set(official_shapes["subscription_item"])
    assert set(client.v1.subscription_items.delete(si.id).to_dict()) == \
        set(official_shapes["deleted_subscription_item"])
