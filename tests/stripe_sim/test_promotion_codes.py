"""Promotion codes through the SDK: CRUD, lookup by code, restrictions, subscriptions and Checkout."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from stripe_sim import SimServer

from .conftest import DAY, event_types, latest_event_id, monthly_price


def _code(client: stripe.StripeClient, coupon: str = "TENOFF", **extra: Any) -> Any:
    if coupon not in {c.id for c in client.v1.coupons.list(params={"limit": 100}).data}:
        client.v1.coupons.create(params={"id": coupon, "percent_off": 10, "duration": "forever"})
    return client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon}, **extra})


def test_create_list_lookup_update(client: stripe.StripeClient) -> None:
    since = latest_event_id(client)
    promo = _code(client, code="Spring-26", metadata={"campaign": "spring"})
    assert (promo.code, promo.active, promo.promotion.coupon, promo.promotion.type) == \
        ("Spring-26", True, "TENOFF", "coupon")
    assert promo.id.startswith("promo_") and promo.restrictions.first_time_transaction is False
    other = _code(client)
    assert len(other.code) == 8 and other.code == other.code.upper() and other.code.isalnum()
    found = client.v1.promotion_codes.list(params={"code": "spring-26"}).data
    assert [p.id for p in found] == [promo.id]
    assert {p.id for p in client.v1.promotion_codes.list(params={"coupon": "TENOFF"}).data} == {promo.id, other.id}
    with pytest.raises(stripe.InvalidRequestError) as dup:
        _code(client, code="SPRING-26")
    assert dup.value.param == "code"
    off = client.v1.promotion_codes.update(promo.id, params={"active": False})
    assert off.active is False
    assert [p.id for p in client.v1.promotion_codes.list(params={"active": True}).data] == [other.id]
    expanded = client.v1.promotion_codes.retrieve(promo.id, params={"expand": ["promotion.coupon"]})
    assert expanded.promotion.coupon.percent_off == 10
    assert event_types(client, since) == ["coupon.created", "promotion_code.created", "promotion_code.created",
                                          "promotion_code.updated"]


def test_subscription_redeems_a_code(client: stripe.StripeClient) -> None:
    promo = _code(client, max_redemptions=1)
    price = monthly_price(client, 2000)
    cus = client.v1.customers.create(params={"email": "p@example.com"})
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": price.id}], "default_payment_method": "pm_card_visa",
        "discounts": [{"promotion_code": promo.id}], "expand": ["latest_invoice", "discounts"]})
    disc = sub.discounts[0]
    assert (disc.promotion_code, disc.source.coupon) == (promo.id, "TENOFF")
    assert sub.latest_invoice.total == 1800
    promo = client.v1.promotion_codes.retrieve(promo.id)
    assert (promo.times_redeemed, promo.active) == (1, False)
    assert client.v1.coupons.retrieve("TENOFF").times_redeemed == 1
    cus2 = client.v1.customers.create(params={"email": "q@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as spent:
        client.v1.subscriptions.create(params={"customer": cus2.id, "items": [{"price": price.id}],
                                               "discounts": [{"promotion_code": promo.id}]})
    assert spent.value.param == "discounts[0][promotion_code]"
    assert client.v1.subscriptions.list(params={"customer": cus2.id, "status": "all"}).data == []


def test_first_time_only_and_minimum_amount(client: stripe.StripeClient) -> None:
    first = _code(client, restrictions={"first_time_transaction": True})
    big = _code(client, restrictions={"minimum_amount": 5000, "minimum_amount_currency": "usd"})
    price = monthly_price(client, 1000)
    cus = client.v1.customers.create(params={"email": "old@example.com"})
    client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                           "default_payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as prior:
        client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                               "discounts": [{"promotion_code": first.id}]})
    assert "prior transactions" in str(prior.value)
    new = client.v1.customers.create(params={"email": "new@example.com"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.create(params={"customer": new.id, "items": [{"price": price.id}],
                                               "discounts": [{"promotion_code": big.id}]})
    sub = client.v1.subscriptions.create(params={
        "customer": new.id, "items": [{"price": price.id}], "default_payment_method": "pm_card_visa",
        "discounts": [{"promotion_code": first.id}]})
    assert sub.status == "active" and len(sub.discounts) == 1


def test_expired_code_is_refused(sim: SimServer, client: stripe.StripeClient) -> None:
    promo = _code(client, expires_at=sim.now() + DAY)
    price = monthly_price(client)
    cus = client.v1.customers.create(params={"email": "late@example.com"})
    sim.advance_clock(2 * DAY)
    assert client.v1.promotion_codes.retrieve(promo.id).active is False
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params={
            "mode": "subscription", "customer": cus.id, "success_url": "http://127.0.0.1:9/ok",
            "line_items": [{"price": price.id, "quantity": 1}], "discounts": [{"promotion_code": promo.id}]})
    assert exc.value.param == "discounts[0][promotion_code]"


def test_checkout_with_a_code(client: stripe.StripeClient, http: requests.Session) -> None:
    promo = _code(client)
    price = monthly_price(client, 3000)
    cs = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "success_url": "http://127.0.0.1:9/ok",
        "line_items": [{"price": price.id, "quantity": 1}], "discounts": [{"promotion_code": promo.id}]})
    assert [(d.coupon, d.promotion_code) for d in cs.discounts] == [(None, promo.id)]
    assert (cs.amount_total, cs.total_details.amount_discount) == (2700, 300)
    assert http.post(cs.url, data={"card_number": "4242424242424242"}, allow_redirects=False).status_code == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["subscription.discounts"]})
    assert cs.subscription.discounts[0].promotion_code == promo.id
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1


def test_allow_promotion_codes_on_the_hosted_page(client: stripe.StripeClient, http: requests.Session) -> None:
    promo = _code(client, code="READER10")
    prod = client.v1.products.create(params={"name": "Donation"})
    price = client.v1.prices.create(params={"product": prod.id, "currency": "usd", "unit_amount": 5000})
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.checkout.sessions.create(params={
            "mode": "payment", "success_url": "http://127.0.0.1:9/ok", "allow_promotion_codes": True,
            "discounts": [{"promotion_code": promo.id}], "line_items": [{"price": price.id, "quantity": 1}]})
    assert both.value.param == "allow_promotion_codes"
    cs = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1:9/ok", "allow_promotion_codes": True,
        "line_items": [{"price": price.id, "quantity": 1}]})
    assert cs.allow_promotion_codes is True and cs.discounts == []
    assert "promotion_code" in http.get(cs.url).text
    bad = http.post(cs.url, data={"card_number": "4242424242424242", "promotion_code": "NOPE"})
    assert bad.status_code == 400 and client.v1.checkout.sessions.retrieve(cs.id).status == "open"
    ok = http.post(cs.url, data={"card_number": "4242424242424242", "promotion_code": "reader10"},
                   allow_redirects=False)
    assert ok.status_code == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["payment_intent"]})
    assert (cs.amount_total, cs.payment_intent.amount) == (4500, 4500)
    assert [d.promotion_code for d in cs.discounts] == [promo.id]
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1


def test_unknown_parameters_are_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as top:
        client.v1.customers.create(params={"emial": "typo@example.com"})  # type: ignore[typeddict-unknown-key]
    err = top.value
    assert (err.http_status, err.code, err.param, err.error.type) == (400, "parameter_unknown", "emial",
                                                                       "invalid_request_error")
    assert "Received unknown parameter: emial" in str(err)
    price = monthly_price(client)
    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.checkout.sessions.create(params={
            "mode": "subscription", "success_url": "http://127.0.0.1:9/ok",
            "line_items": [{"price": price.id, "qty": 1}]})  # type: ignore[typeddict-unknown-key]
    assert nested.value.param == "line_items[0][qty]"
    with pytest.raises(stripe.InvalidRequestError) as old:
        client.v1.subscriptions.create(params={"customer": "cus_x", "items": [{"price": price.id}],
                                               "coupon": "X"})  # type: ignore[typeddict-unknown-key]
    assert old.value.param == "coupon"
    assert client.v1.customers.list(params={"limit": 1}).data == []  # nothing was created by the refusals


def test_shape_matches_fixture(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    promo = _code(client)
    assert set(promo.to_dict()) == set(official_shapes["promotion_code"])
    assert set(promo.restrictions.to_dict()) >= set(official_shapes["promotion_code"]["restrictions"])
