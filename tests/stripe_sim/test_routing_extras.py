"""Smaller operations a newsroom's billing touches: balance history, refund cancel, removing a discount."""

from __future__ import annotations

import pytest
import stripe

from .conftest import event_types, latest_event_id, monthly_price


def test_balance_history_is_the_balance_transaction_list(client: stripe.StripeClient) -> None:
    client.v1.payment_intents.create(params={"amount": 1200, "currency": "usd", "confirm": True,
                                             "payment_method": "pm_card_visa"})
    history = client.v1.balance_transactions.list()
    raw = client.raw_request("get", "/v1/balance/history", limit=10)
    data = client.deserialize(raw, api_mode="V1")
    assert [t.id for t in data.data] == [t.id for t in history.data] and data.url == "/v1/balance/history"


def test_card_refunds_cannot_be_canceled(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd", "confirm": True,
                                                  "payment_method": "pm_card_visa"})
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.cancel(refund.id)
    assert exc.value.http_status == 400 and "requires_action" in str(exc.value)


def test_delete_subscription_discount(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "GONE", "percent_off": 20, "duration": "forever"})
    cus = client.v1.customers.create(params={"email": "dd@example.com"})
    price = monthly_price(client)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_visa",
                                                 "discounts": [{"coupon": "GONE"}]})
    since = latest_event_id(client)
    deleted = client.v1.subscriptions.delete_discount(sub.id)
    assert deleted.deleted is True and deleted.id == sub.discounts[0]
    assert client.v1.subscriptions.retrieve(sub.id).discounts == []
    assert event_types(client, since) == ["customer.discount.deleted", "customer.subscription.updated"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.delete_discount(sub.id)
