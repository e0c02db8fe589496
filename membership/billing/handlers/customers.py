"""customer.updated / customer.deleted: keep the reader's email in step; detach on delete."""

from __future__ import annotations

import logging

from sqlalchemy import select

from membership.billing.events import StripeEvent, handles
from membership.billing.gateway.customers import fetch_customer
from membership.extensions import db
from membership.identity.models import Reader

log = logging.getLogger(__name__)


def _reader(customer_id: str) -> Reader | None:
    return db.session.scalar(select(Reader).where(Reader.stripe_customer_id == customer_id).with_for_update())


@handles("customer.updated")
def on_customer_updated(event: StripeEvent) -> None:
    """Copy a changed email to the reader when no other reader uses it.

    Customers we do not know are not ours to track (no retry): readers link their
    customer id when they sign up or check out.
    """
    if not event.object_id:
        return
    reader = _reader(event.object_id)  # the row lock serialises writers of this reader
    if reader is None or reader.deleted_at is not None:
        return
    customer = fetch_customer(event.object_id)
    if customer is None:
        return
    if customer.deleted:
        reader.stripe_customer_id = None
        return
    email = (customer.email or "").strip().lower()
    if not email or email == reader.email or "@" not in email:
        return
    taken = db.session.scalar(select(Reader.id).where(Reader.email == email, Reader.id != reader.id))
    if taken is not None:
        log.warning("customer email belongs to another reader; not synced",
                    extra={"customer": event.object_id, "reader_id": reader.id})
        return
    reader.email = email


@handles("customer.deleted")
def on_customer_deleted(event: StripeEvent) -> None:
    """Stripe's customer is gone: detach it so nothing charges or resolves through it."""
    if not event.object_id:
        return
    reader = _reader(event.object_id)
    if reader is not None:
        reader.stripe_customer_id = None
