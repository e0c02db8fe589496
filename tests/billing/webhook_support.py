"""Helpers for webhook tests: signed payloads, sim-backed objects, feeding sim events
into the inbox the way Stripe's delivery would (same bytes, same signature scheme)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import stripe
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.billing import inbox, processing
from membership.billing.gateway import stripe_client
from membership.billing.models import WebhookEvent
from membership.extensions import db
from membership.identity.models import Reader
from tests.conftest import WEBHOOK_SECRET


def sign(body: bytes, secret: str = WEBHOOK_SECRET, t: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=t)


def event_body(type_: str, obj: dict[str, Any], created: int | None = None, event_id: str | None = None,
               previous: dict[str, Any] | None = None) -> bytes:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    payload = {"id": event_id or f"evt_test_{uuid.uuid4().hex[:20]}", "object": "event",
               "api_version": stripe.api_version, "created": created or int(time.time()), "data": data,
               "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
               "type": type_}
    return json.dumps(payload).encode()


def post(client: FlaskClient, body: bytes, secret: str = WEBHOOK_SECRET, header: str | None = None) -> Any:
    headers = {"Stripe-Signature": header if header is not None else sign(body, secret),
               "Content-Type": "application/json"}
    return client.post("/webhooks/stripe", data=body, headers=headers)


def make_reader(email: str | None = None, customer_id: str | None = None) -> Reader:
    reader = Reader(email=email or f"r{uuid.uuid4().hex[:10]}@example.com", stripe_customer_id=customer_id)
    db.session.add(reader)
    db.session.commit()
    return reader


def sim_price(amount: int = 1000, interval: str = "month", currency: str = "usd", **extra: Any) -> Any:
    client = stripe_client()
    product = client.v1.products.create(params={"name": f"Plan {amount}/{interval}"})
    return client.v1.prices.create(params={"product": product.id, "currency": currency, "unit_amount": amount,
                                           "recurring": {"interval": interval}, **extra})


def sim_customer(reader: Reader | None = None, clock: str | None = None, link: bool = True) -> Any:
    params: dict[str, Any] = {"email": reader.email if reader else "someone@example.com",
                              "payment_method": "pm_card_visa",
                              "invoice_settings": {"default_payment_method": "pm_card_visa"}}
    if reader is not None:
        params["metadata"] = {"reader_id": str(reader.id)}
    if clock:
        params["test_clock"] = clock
    customer = stripe_client().v1.customers.create(params=params)
    if reader is not None and link:
        reader.stripe_customer_id = customer.id
        db.session.commit()
    return customer


def latest_event_id() -> str | None:
    page = stripe_client().v1.events.list(params={"limit": 1})
    return page.data[0].id if page.data else None


def sim_events_since(marker: str | None, related: set[str] | None = None) -> list[dict[str, Any]]:
    """Events the sim emitted after `marker`, oldest first, optionally only those about
    the given object/customer ids (the sim is shared by the whole test session)."""
    out: list[dict[str, Any]] = []
    for evt in stripe_client().v1.events.list(params={"limit": 100}).auto_paging_iter():
        if evt.id == marker:
            break
        payload = evt.to_dict(recursive=True, for_json=True)
        obj = payload["data"]["object"]
        if related is None or obj.get("id") in related or obj.get("customer") in related:
            out.append(payload)
    out.reverse()
    return out


def deliver(client: FlaskClient, payload: dict[str, Any]) -> int:
    """POST one event as Stripe would and return its inbox row id."""
    body = json.dumps(payload).encode()
    response = post(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    row = inbox.find(payload["id"])
    assert row is not None
    return row.id


def deliver_and_process(client: FlaskClient, payloads: list[dict[str, Any]]) -> list[processing.Outcome]:
    outcomes = []
    for payload in payloads:
        outcomes.append(processing.process(deliver(client, payload))[0])
    return outcomes


def inbox_rows() -> list[WebhookEvent]:
    return list(db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
