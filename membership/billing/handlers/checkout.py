"""checkout.session.*: tie the session to the reader and settle the local rows.

Money for one-time gifts is the money module's handler; gift memberships are the
readers module's. This one links the reader, marks our CheckoutSession row, marks
failed/expired donations, and syncs the subscription a subscription-mode session made.
"""

from __future__ import annotations

from sqlalchemy import select

from membership.billing.customers import resolve_reader
from membership.billing.events import StripeEvent, handles
from membership.billing.gateway.checkout import CheckoutSession as RemoteSession
from membership.billing.gateway.checkout import fetch_checkout_session
from membership.billing.models import CheckoutSession, CheckoutStatus, Donation
from membership.billing.subscriptions import event_time, lock_object, sync_subscription
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.notices import record_notice

FULFILLED = ("paid", "no_payment_required")


def _local(session_id: str) -> CheckoutSession | None:
    return db.session.scalar(select(CheckoutSession).where(CheckoutSession.stripe_session_id == session_id)
                             .with_for_update())


def _donation(session_id: str) -> Donation | None:
    return db.session.scalar(select(Donation).where(Donation.stripe_checkout_session_id == session_id)
                             .with_for_update())


def _link_reader(session: RemoteSession, local: CheckoutSession | None) -> Reader:
    """Our row knows the reader; else the customer id / metadata / client_reference_id."""
    metadata = dict(session.metadata)
    if local is not None:
        metadata.setdefault("reader_id", str(local.reader_id))
    elif session.client_reference_id:
        metadata.setdefault("reader_id", str(session.client_reference_id))
    return resolve_reader(session.customer_id, metadata)


def _load_linked(event: StripeEvent) -> tuple[RemoteSession, CheckoutSession | None, Reader] | None:
    """Lock the session id, re-fetch it from Stripe, load our row and tie the reader
    to it (RetryLater when the reader is not known yet); None for an id-less event."""
    if not event.object_id:
        return None
    lock_object(event.object_id)
    session = fetch_checkout_session(event.object_id)
    local = _local(event.object_id)
    return session, local, _link_reader(session, local)


@handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def on_completed(event: StripeEvent) -> None:
    loaded = _load_linked(event)
    if loaded is None:
        return
    session, local, _reader = loaded
    if session.payment_status not in FULFILLED:
        return  # async payment still processing: wait for async_payment_succeeded/failed
    if local is not None and local.status is not CheckoutStatus.COMPLETE:
        local.status = CheckoutStatus.COMPLETE
        local.completed_at = event_time(event)
    if session.subscription_id:
        sync_subscription(session.subscription_id, event)


@handles("checkout.session.async_payment_failed")
def on_async_failed(event: StripeEvent) -> None:
    """A bank debit (ACH, SEPA, ...) the reader started at Checkout bounced days later:
    close the rows and tell the reader, once per session, that nothing was taken and
    how to try again (they left the page believing they had paid)."""
    loaded = _load_linked(event)
    if loaded is None:
        return
    session, local, reader = loaded
    if local is not None and local.status is CheckoutStatus.OPEN:
        local.status = CheckoutStatus.FAILED
    donation = _donation(session.id)
    if donation is not None and donation.status == "pending":
        donation.status = "failed"
    if reader.email:
        record_notice("checkout_payment_failed", session.id, reader.email,
                      {"amount_minor": session.amount_total,
                       "currency": (session.currency or "usd").lower(),
                       "checkout_session_id": local.id if local is not None else None,
                       "donation": donation is not None},
                      reader_id=reader.id)


@handles("checkout.session.expired")
def on_expired(event: StripeEvent) -> None:
    """The reader walked away: the pending local rows are closed (kept for the funnel)."""
    if not event.object_id:
        return
    lock_object(event.object_id)
    local = _local(event.object_id)
    if local is not None and local.status is CheckoutStatus.OPEN:
        local.status = CheckoutStatus.EXPIRED
    donation = _donation(event.object_id)
    if donation is not None and donation.status == "pending":
        donation.status = "expired"
