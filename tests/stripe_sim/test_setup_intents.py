"""SetupIntents and Checkout ``mode=setup`` through the SDK: save a card now, charge it off-session later."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from .conftest import event_types, latest_event_id


def test_setup_then_charge_off_session(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "card@example.com"})
    since = latest_event_id(client)
    si = client.v1.setup_intents.create(params={"customer": cus.id, "payment_method": "pm_card_visa",
                                                "metadata": {"reader_id": "7"}})
    assert (si.status, si.usage, si.customer) == ("requires_confirmation", "off_session", cus.id)
    assert si.client_secret.startswith(si.id + "_secret_")
    si = client.v1.setup_intents.confirm(si.id)
    assert si.status == "succeeded"
    assert client.v1.payment_methods.retrieve(si.payment_method).customer == cus.id
    assert event_types(client, since) == ["setup_intent.created", "payment_method.attached",
                                          "setup_intent.succeeded"]
    pi = client.v1.payment_intents.create(params={"amount": 500, "currency": "usd", "customer": cus.id,
                                                  "payment_method": si.payment_method, "confirm": True,
                                                  "off_session": True})
    assert pi.status == "succeeded"
    assert [s.id for s in client.v1.setup_intents.list(params={"customer": cus.id}).data] == [si.id]


def test_declining_card_fails_setup(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "bad@example.com"})
    with pytest.raises(stripe.CardError) as exc:
        client.v1.setup_intents.create(params={"customer": cus.id, "payment_method": "pm_card_chargeDeclined",
                                               "confirm": True})
    assert exc.value.code == "card_declined" and exc.value.http_status == 402
    si = client.v1.setup_intents.list(params={"customer": cus.id}).data[0]
    assert (si.status, si.last_setup_error.decline_code) == ("requires_payment_method", "generic_decline")
    assert client.v1.payment_methods.list(params={"customer": cus.id}).data == []
    assert "setup_intent.setup_failed" in event_types(client)
    si = client.v1.setup_intents.cancel(si.id)
    assert (si.status, si.cancellation_reason) == ("canceled", "requested_by_customer")


def test_checkout_setup_mode(client: stripe.StripeClient, http: requests.Session) -> None:
    cus = client.v1.customers.create(params={"email": "setup@example.com"})
    cs = client.v1.checkout.sessions.create(params={
        "mode": "setup", "customer": cus.id, "currency": "usd", "success_url": "http://127.0.0.1:9/ok",
        "setup_intent_data": {"metadata": {"purpose": "card_update"}}})
    assert (cs.mode, cs.amount_total, cs.setup_intent, cs.payment_status) == ("setup", None, None,
                                                                              "no_payment_required")
    assert "Save card" in http.get(cs.url).text
    declined = http.post(cs.url, data={"card_number": "4000000000000002"})
    assert declined.status_code == 402
    since = latest_event_id(client)
    ok = http.post(cs.url, data={"card_number": "5555555555554444"}, allow_redirects=False)
    assert ok.status_code == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["setup_intent.payment_method"]})
    assert cs.status == "complete" and cs.setup_intent.status == "succeeded"
    assert cs.setup_intent.metadata.to_dict() == {"purpose": "card_update"}
    assert (cs.setup_intent.payment_method.card.last4, cs.setup_intent.payment_method.customer) == ("4444", cus.id)
    assert event_types(client, since) == ["setup_intent.created", "payment_method.attached",
                                          "setup_intent.succeeded", "checkout.session.completed"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params={"mode": "setup", "customer": cus.id,
                                                   "success_url": "http://127.0.0.1:9/ok",
                                                   "line_items": [{"price": "price_x", "quantity": 1}]})
    assert exc.value.param == "line_items"


def test_shape_matches_fixture(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    si = client.v1.setup_intents.create(params={"payment_method": "pm_card_visa"})
    assert set(si.to_dict()) == set(official_shapes["setup_intent"])
