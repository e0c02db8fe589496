"""Payment Links through the SDK and the hosted link page (which opens a Checkout Session)."""

from __future__ import annotations

from typing import Any

import requests
import stripe

from .conftest import event_types, latest_event_id, monthly_price


def _one_time(client: stripe.StripeClient, amount: int = 2500) -> Any:
    prod = client.v1.products.create(params={"name": "Ticket"})
    return client.v1.prices.create(params={"product": prod.id, "currency": "usd", "unit_amount": amount})


def test_crud_and_line_items(client: stripe.StripeClient) -> None:
    since = latest_event_id(client)
    price = _one_time(client)
    link = client.v1.payment_links.create(params={"line_items": [{"price": price.id, "quantity": 2}],
                                                  "metadata": {"campaign": "spring"}})
    assert link.active and link.url.endswith(f"/b/{link.id}") and link.currency == "usd"
    items = client.v1.payment_links.line_items.list(link.id).data
    assert [(i.price.id, i.quantity, i.amount_total) for i in items] == [(price.id, 2, 5000)]
    link = client.v1.payment_links.update(link.id, params={"line_items": [{"id": items[0].id, "quantity": 3}],
                                                           "active": False})
    assert link.active is False
    assert client.v1.payment_links.line_items.list(link.id).data[0].quantity == 3
    assert client.v1.payment_links.list(params={"active": False}).data[0].id == link.id
    assert client.v1.payment_links.retrieve(link.id, params={"expand": ["line_items"]}).line_items.data[0].quantity == 3
    assert event_types(client, since) == ["product.created", "price.created", "payment_link.created",
                                          "payment_link.updated"]


def test_paying_a_link_is_checkout(client: stripe.StripeClient, http: requests.Session) -> None:
    price = _one_time(client)
    link = client.v1.payment_links.create(params={
        "line_items": [{"price": price.id}], "metadata": {"source": "link"},
        "restrictions": {"completed_sessions": {"limit": 1}},
        "after_completion": {"type": "hosted_confirmation", "hosted_confirmation": {"custom_message": "See you!"}}})
    since = latest_event_id(client)
    page = http.get(link.url)
    assert page.status_code == 200 and "/checkout/cs_" in page.url
    cs_id = page.url.rsplit("/", 1)[1]
    paid = http.post(page.url, data={"card_number": "4242424242424242", "email": "buyer@example.com"})
    assert paid.status_code == 200 and "See you!" in paid.text
    cs = client.v1.checkout.sessions.retrieve(cs_id)
    assert (cs.payment_link, cs.status, cs.payment_status, cs.amount_total, cs.metadata["source"]) == \
        (link.id, "complete", "paid", 2500, "link")
    types = event_types(client, since)
    assert "checkout.session.completed" in types and "payment_intent.succeeded" in types
    link = client.v1.payment_links.retrieve(link.id)
    assert (link.restrictions.completed_sessions.count, link.active) == (1, False)
    assert http.get(link.url).status_code == 410


def test_subscription_link(client: stripe.StripeClient, http: requests.Session) -> None:
    price = monthly_price(client, 900)
    link = client.v1.payment_links.create(params={
        "line_items": [{"price": price.id}], "subscription_data": {"metadata": {"plan": "basic"}},
        "after_completion": {"type": "redirect", "redirect": {"url": "http://127.0.0.1:9/thanks"}}})
    page = http.get(link.url)
    resp = http.post(page.url, data={"card_number": "4242424242424242"}, allow_redirects=False)
    assert resp.status_code == 303 and resp.headers["Location"] == "http://127.0.0.1:9/thanks"
    cs = client.v1.checkout.sessions.list(params={"limit": 1}).data[0]
    sub = client.v1.subscriptions.retrieve(cs.subscription)
    assert (sub.status, sub.metadata["plan"], cs.payment_link) == ("active", "basic", link.id)


def test_shape_matches_fixture(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    link = client.v1.payment_links.create(params={"line_items": [{"price": _one_time(client).id}]})
    assert set(link.to_dict()) == set(official_shapes["payment_link"])
