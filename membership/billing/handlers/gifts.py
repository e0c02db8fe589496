"""checkout.session.completed / async_payment_succeeded for gift memberships:
acts only when a GiftMembership has that session id, and only once it is paid
(re-fetched from Stripe: the event payload may be stale)."""

from __future__ import annotations

from sqlalchemy import select

from membership.billing import gifts
from membership.billing.events import StripeEvent, handles
from membership.billing.gateway import stripe_client
from membership.billing.models import GiftMembership
from membership.extensions import db


@handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def on_gift_paid(event: StripeEvent) -> None:
    session_id = event.object_id
    if not session_id:
        return
    gift = db.session.scalar(select(GiftMembership).where(GiftMembership.stripe_checkout_session_id == session_id)
                             .with_for_update())
    if gift is None or gift.status != "pending_payment":
        return
    session = stripe_client().v1.checkout.sessions.retrieve(session_id)
    if getattr(session, "payment_status", None) in ("paid", "no_payment_required"):
        gifts.fulfil(gift)
