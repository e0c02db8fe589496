"""Stripe customers as readers: the one already linked, else the one with the email
(an imported member gets linked here), else a new reader. No mail: a reader made by
an adoption was a customer long before we met them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from membership.billing.adoption.summary import Summary
from membership.extensions import db
from membership.identity.models import Reader


def adopt_customer(customer: dict[str, Any], summary: Summary) -> Reader | None:
    if customer.get("deleted"):
        return None
    linked = db.session.scalar(select(Reader).where(Reader.stripe_customer_id == customer["id"]))
    if linked is not None:
        return linked
    email = str(customer.get("email") or "").strip().lower()
    if not email or "@" not in email or len(email) > 320:
        summary.could_not_map(f"customer {customer['id']}: no usable email")
        return None
    reader = db.session.scalar(select(Reader).where(Reader.email == email))
    if reader is not None:
        if reader.deleted_at is not None:
            summary.could_not_map(f"customer {customer['id']}: its reader was erased")
            return None
        if reader.stripe_customer_id is not None:
            summary.could_not_map(f"customer {customer['id']}: {email} is linked to {reader.stripe_customer_id}")
            return None
        reader.stripe_customer_id = customer["id"]
        summary.note("readers linked by email")
        return reader
    reader = Reader(email=email, name=str(customer.get("name") or "")[:200], stripe_customer_id=customer["id"],
                    created_at=datetime.fromtimestamp(int(customer["created"]), tz=UTC))
    db.session.add(reader)
    db.session.flush()
    summary.note("readers created")
    return reader
