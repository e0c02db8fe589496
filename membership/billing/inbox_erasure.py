"""Erasure in the webhook inbox: stored Stripe payloads lose a reader's personal data.

Why rewrite stored events at all: the inbox keeps every event as Stripe signed it, and
customer, checkout, charge and invoice objects carry the payer's email, name, phone and
addresses (and our own metadata carries tribute and gift names). The payload is not
evidence of money (the ledger, payments and Stripe itself are), and workers re-fetch
objects from Stripe, so personal fields can go while ids, amounts, currencies and
statuses stay. Which events: those naming the reader's customer id or containing the
address; the check is a scan of the inbox, which erasure (rare) can afford.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select, update

from membership.billing.models import WebhookEvent
from membership.extensions import db

# Stripe's personal fields (customer, checkout session, charge, invoice) and ours in metadata.
PERSONAL_KEYS = frozenset({
    "email", "name", "phone", "address", "shipping", "receipt_email", "billing_details", "customer_details",
    "customer_email", "customer_name", "customer_phone", "customer_address", "customer_shipping",
    "customer_tax_ids", "tax_ids", "honoree_name", "recipient_name", "recipient_email", "message",
})


def _scrub(value: Any, email: str, replacement: str) -> Any:
    if isinstance(value, dict):
        return {k: None if k in PERSONAL_KEYS and v not in (None, "") else _scrub(v, email, replacement)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, email, replacement) for v in value]
    if isinstance(value, str) and email and email in value.lower():
        return replacement
    return value


def redact_payload(payload: str, email: str, replacement: str) -> str:
    """The payload without personal fields and without the address anywhere else."""
    try:
        data = json.loads(payload)
    except ValueError:
        return "{}"  # not JSON (never stored by the inbox): nothing worth keeping
    return json.dumps(_scrub(data, email.lower(), replacement), separators=(",", ":"))


def redact_reader_events(customer_id: str | None, email: str, replacement: str) -> int:
    """Rewrite every stored event about this customer or address; returns how many. Flushes."""
    needles = [func.lower(WebhookEvent.payload).contains(email.lower(), autoescape=True)]
    if customer_id:
        needles.append(WebhookEvent.payload.contains(f'"{customer_id}"', autoescape=True))
    rows = db.session.execute(select(WebhookEvent.id, WebhookEvent.payload).where(or_(*needles))).all()
    for event_id, payload in rows:
        db.session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id)
                           .values(payload=redact_payload(payload, email, replacement)))
    db.session.flush()
    return len(rows)
