"""customer.subscription.*: the main entitlement signal. Re-fetch and upsert, always."""

from __future__ import annotations

from membership.billing.events import StripeEvent, handles
from membership.billing.subscriptions import sync_subscription
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.notices import record_notice


@handles("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
         "customer.subscription.paused", "customer.subscription.resumed",
         "customer.subscription.pending_update_applied", "customer.subscription.pending_update_expired")
def on_subscription_changed(event: StripeEvent) -> None:
    if event.object_id:
        sync_subscription(event.object_id, event)


@handles("customer.subscription.trial_will_end")
def on_trial_will_end(event: StripeEvent) -> None:
    """Sync, then one trial_will_end notice per trial end (a moved trial end is a new notice)."""
    if not event.object_id:
        return
    sub = sync_subscription(event.object_id, event)
    if sub is None or sub.trial_end is None or sub.status.value != "trialing":
        return
    reader = db.session.get(Reader, sub.reader_id)
    if reader is None or reader.deleted_at is not None:
        return
    record_notice("trial_will_end", f"{sub.stripe_subscription_id}:{int(sub.trial_end.timestamp())}",
                  reader.email, {"subscription_id": sub.id}, reader_id=reader.id)
