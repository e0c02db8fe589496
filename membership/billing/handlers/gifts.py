"""checkout.session.completed / async_payment_succeeded for gift memberships:
acts only when a GiftMembership has that session id, and only once it is paid
(re-fetched from Stripe: the event payload may be stale). A delivery date chosen on
the gift page travels in the session's metadata (`deliver_on`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from membership.billing import gifts
from membership.billing.events import StripeEvent, handles
from membership.billing.gateway.checkout import fetch_checkout_session
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
    session = fetch_checkout_session(session_id)
    if session.payment_status in ("paid", "no_payment_required"):
        gifts.fulfil(gift, _deliver_on(session.metadata.get("deliver_on")))


def _deliver_on(raw: str | None) -> date | None:
    """The date we wrote into the metadata; anything unreadable delivers today, never never."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return date.min
