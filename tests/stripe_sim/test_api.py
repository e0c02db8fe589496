"""API mechanics through the SDK: idempotency, error classes, pagination, expand, encoding."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
import stripe

from stripe_sim import SimServer

from .conftest import monthly_price


def test_idempotent_replay_and_mismatch(client: stripe.StripeClient) -> None:
    opts: stripe.RequestOptions = {"idempotency_key": "signup-reader-1"}
    first = client.v1.customers.create(params={"email": "idem@example.com"}, options=opts)
    again = client.v1.customers.create(params={"email": "idem@example.com"}, options=opts)
    assert again.id == first.id
    assert again.last_response is not None and again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.customers.list(params={"email": "idem@example.com"}).data) == 1
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.customers.create(params={"email": "other@example.com"}, options=opts)
    assert exc.value.http_status == 400 and exc.value.error.type == "idempotency_error"
    evt = client.v1.events.list(params={"type": "customer.created"}).data[0]
    assert evt.request.idempotency_key == "signup-reader-1"


def test_idempotent_card_error_is_replayed(client: stripe.StripeClient) -> None:
    params = {"amount": 700, "currency": "usd", "payment_method": "pm_card_chargeDeclined", "confirm": True}
    errs = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as exc:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": "pay-1"})
        errs.append(exc.value)
    assert errs[0].error.charge == errs[1].error.charge
    assert len(client.v1.charges.list().data) == 1


def test_error_classes(sim: SimServer, client: stripe.StripeClient,
                       make_client: Callable[[SimServer], stripe.StripeClient]) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_doesnotexist")
    assert (missing.value.http_status, missing.value.code, missing.value.param) == (404, "resource_missing", "id")
    assert "No such customer: 'cus_doesnotexist'" in str(missing.value)
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params={"amount": 500, "currency": "usd", "confirm": True,
                                                 "payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    err = declined.value
    assert (err.http_status, err.code, err.error.decline_code) == (402, "card_declined", "insufficient_funds")
    assert err.error.payment_intent.status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.prices.create(params={"currency": "usd", "unit_amount": 100})
    assert bad.value.param == "product" and bad.value.http_status == 400
    with pytest.raises(stripe.AuthenticationError):
        make_client(sim, "sk_live_nope").v1.customers.list()
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.create(params={"customer": "cus_nope", "items": [{"price": "price_nope"}]})


def test_subscription_with_declining_card(client: stripe.StripeClient) -> None:
    price = monthly_price(client)
    cus = client.v1.customers.create(params={"email": "d@example.com"})
    with pytest.raises(stripe.CardError):
        client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                               "default_payment_method": "pm_card_chargeDeclined",
                                               "payment_behavior": "error_if_incomplete"})
    assert client.v1.subscriptions.list(params={"customer": cus.id, "status": "all"}).data == []
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_chargeDeclined",
                                                 "expand": ["latest_invoice"]})
    assert sub.status == "incomplete" and sub.latest_invoice.status == "open"
    assert sub.latest_invoice.attempt_count == 1 and sub.latest_invoice.amount_paid == 0


def test_pagination(client: stripe.StripeClient) -> None:
    ids = [client.v1.customers.create(params={"email": f"p{i}@example.com"}).id for i in range(25)]
    newest_first = list(reversed(ids))
    page = client.v1.customers.list(params={"limit": 10})
    assert [c.id for c in page.data] == newest_first[:10]
    assert page.has_more is True and page.url == "/v1/customers"
    page2 = client.v1.customers.list(params={"limit": 10, "starting_after": page.data[-1].id})
    assert [c.id for c in page2.data] == newest_first[10:20]
    last = client.v1.customers.list(params={"limit": 10, "starting_after": page2.data[-1].id})
    assert [c.id for c in last.data] == newest_first[20:] and last.has_more is False
    back = client.v1.customers.list(params={"limit": 5, "ending_before": page2.data[0].id})
    assert [c.id for c in back.data] == newest_first[5:10] and back.has_more is True
    assert [c.id for c in client.v1.customers.list(params={"limit": 7}).auto_paging_iter()] == newest_first
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list(params={"limit": 101})


def test_expand_and_metadata(client: stripe.StripeClient) -> None:
    price = monthly_price(client, 1500)
    cus = client.v1.customers.create(params={"email": "e@example.com", "metadata": {"reader_id": "9", "x": "1"}})
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": price.id}], "default_payment_method": "pm_card_visa",
        "metadata": {"plan": "monthly"}, "expand": ["customer", "latest_invoice.payments", "default_payment_method"]})
    assert sub.customer.metadata.reader_id == "9"
    assert sub.default_payment_method.card.last4 == "4242"
    assert sub.latest_invoice.payments.data[0].amount_paid == 1500
    assert isinstance(client.v1.subscriptions.retrieve(sub.id).latest_invoice, str)
    listed = client.v1.subscriptions.list(params={"customer": cus.id, "expand": ["data.latest_invoice"]})
    assert listed.data[0].latest_invoice.id == sub.latest_invoice.id
    assert listed.data[0].metadata.plan == "monthly"
    upd = client.v1.customers.update(cus.id, params={"metadata": {"x": "", "y": "2"}})
    assert upd.metadata.to_dict() == {"reader_id": "9", "y": "2"}
    by_pi = client.v1.invoice_payments.list(params={"invoice": sub.latest_invoice.id,
                                                    "expand": ["data.payment.payment_intent"]})
    assert by_pi.data[0].payment.payment_intent.status == "succeeded"
    found = client.v1.customers.search(params={"query": "metadata['reader_id']:'9'"})
    assert [c.id for c in found.data] == [cus.id]


def test_nested_form_encoding_price_data_and_arrays(client: stripe.StripeClient, http: requests.Session) -> None:
    prod = client.v1.products.create(params={"name": "Weekly digest", "metadata": {"a": "b"}})
    cs = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "success_url": "http://127.0.0.1:9/ok",
        "line_items": [{"price_data": {"currency": "eur", "product": prod.id, "unit_amount": 450,
                                       "recurring": {"interval": "week", "interval_count": 2}}, "quantity": 2}],
        "subscription_data": {"metadata": {"k": "v"}, "trial_period_days": 7}, "customer_email": "w@example.com"})
    items = client.v1.checkout.sessions.line_items.list(cs.id)
    assert items.data[0].price.recurring.interval_count == 2 and items.data[0].amount_total == 900
    assert http.post(cs.url, data={"card_number": "4242424242424242"}, allow_redirects=False).status_code == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["subscription"]})
    assert cs.subscription.status == "trialing" and cs.payment_status == "no_payment_required"
    assert cs.subscription.metadata.k == "v" and cs.customer_details.email == "w@example.com"


def test_zero_decimal_currency_custom_amount(client: stripe.StripeClient, http: requests.Session) -> None:
    prod = client.v1.products.create(params={"name": "Kifu"})
    price = client.v1.prices.create(params={"product": prod.id, "currency": "jpy",
                                            "custom_unit_amount": {"enabled": True, "minimum": 500}})
    cs = client.v1.checkout.sessions.create(params={"mode": "payment", "submit_type": "donate",
                                                    "success_url": "http://127.0.0.1:9/ok",
                                                    "line_items": [{"price": price.id, "quantity": 1}]})
    assert "step='1'" in http.get(cs.url).text
    low = http.post(cs.url, data={"card_number": "4242424242424242", "amount": "100"}, allow_redirects=False)
    assert low.status_code == 400
    assert http.post(cs.url, data={"card_number": "4242424242424242", "amount": "1000"},
                     allow_redirects=False).status_code == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["payment_intent.latest_charge.balance_transaction"]})
    txn = cs.payment_intent.latest_charge.balance_transaction
    assert (cs.amount_total, cs.currency, txn.fee, txn.net) == (1000, "jpy", 29 + 30, 1000 - 59)


def test_declined_checkout_stays_open(client: stripe.StripeClient, http: requests.Session) -> None:
    price = monthly_price(client)
    cs = client.v1.checkout.sessions.create(params={"mode": "subscription", "success_url": "http://127.0.0.1:9/ok",
                                                    "line_items": [{"price": price.id, "quantity": 1}]})
    r = http.post(cs.url, data={"card_number": "4000000000009995"}, allow_redirects=False)
    assert r.status_code == 402 and "insufficient funds" in r.text
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"
    assert client.v1.subscriptions.list(params={"status": "all"}).data == []
    expired = client.v1.checkout.sessions.expire(cs.id)
    assert expired.status == "expired"
    assert http.post(cs.url, data={"card_number": "4242424242424242"}).status_code == 400
