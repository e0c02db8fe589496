"""Self-service on a reader's own subscriptions, each one Stripe call then a re-sync.

Every action first loads the subscription *by the reader's id*: another reader's
id is a 404 (the same answer as a missing one, so ids cannot be probed). After the
Stripe call the subscription is re-fetched and upserted through the webhook
module's `sync_subscription`, so our state matches Stripe's at once; the webhook
that follows finds nothing new.

Decisions:
- Cancel is at period end, one step, optional reason (Stripe's feedback values)
  and comment; cancelling twice is a no-op. Resume undoes it before the period ends.
- Upgrade (a higher monthly-equivalent price) switches now with
  `proration_behavior=always_invoice`: the difference for the rest of the period is
  invoiced and charged at once. Downgrade goes through a subscription schedule
  (gateway/schedules.py): the reader keeps the tier they paid for until the period
  ends and the renewal bills the lower one, no credit. Choosing the current plan
  again, upgrading or cancelling first releases a pending schedule, so a change
  planned earlier never overrides a later decision. `pending_plan` reads it back.
- A recurring gift's new amount (min/max of its price, no cover-the-fees) applies
  from the next renewal, without proration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from membership.billing import mrr
from membership.billing.catalog import ensure_price, ensure_product
from membership.billing.checkout import ensure_customer
from membership.billing.gateway import idempotency_key, schedules
from membership.billing.gateway import subscriptions as remote
from membership.billing.gateway.portal import portal_url as gateway_portal_url
from membership.billing.models import Plan, PlanKind, Price, Subscription
from membership.billing.offerings import bad, parse_amount
from membership.billing.processor import processor_errors
from membership.billing.subscriptions import sync_subscription
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES, Interval, Stream, SubscriptionStatus
from membership.errors import Conflict, NotFound
from membership.extensions import db
from membership.identity.models import Reader

_CHANGEABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)


def own_subscription(reader: Reader, subscription_id: int) -> Subscription:
    sub = db.session.scalar(select(Subscription).where(Subscription.id == subscription_id,
                                                       Subscription.reader_id == reader.id))
    if sub is None:
        raise NotFound("No such subscription.")
    return sub


def _live(sub: Subscription) -> None:
    if sub.status in TERMINAL_SUBSCRIPTION_STATUSES:
        raise Conflict("This subscription has ended.")


def _resync(stripe_id: str) -> Subscription:
    synced = sync_subscription(stripe_id)
    if synced is None:
        raise NotFound("The payment processor no longer knows this subscription.")
    return synced


def cancel(reader: Reader, subscription_id: int, reason: str | None, comment: str | None) -> Subscription:
    sub = own_subscription(reader, subscription_id)
    _live(sub)
    if sub.cancel_at_period_end:
        return sub
    with processor_errors():
        schedules.release_schedule(sub.stripe_subscription_id)
        remote.cancel_at_period_end(sub.stripe_subscription_id, reason, comment)
    return _resync(sub.stripe_subscription_id)


def resume(reader: Reader, subscription_id: int) -> Subscription:
    sub = own_subscription(reader, subscription_id)
    _live(sub)
    if not sub.cancel_at_period_end and sub.cancel_at is None:
        return sub
    with processor_errors():
        remote.keep_renewing(sub.stripe_subscription_id)
    return _resync(sub.stripe_subscription_id)


def _stripe_item(sub: Subscription) -> tuple[str, dict[str, str]]:
    with processor_errors():
        item = remote.first_item(sub.stripe_subscription_id)
    return item.item_id, dict(item.metadata)


def _monthly(amount: int, interval: Interval) -> int:
    return mrr.monthly_minor(amount, 1, "year" if interval is Interval.YEAR else "month")


def change_plan(reader: Reader, subscription_id: int, price_id: int) -> Subscription:
    sub = own_subscription(reader, subscription_id)
    if sub.stream is not Stream.MEMBERSHIP or sub.status not in _CHANGEABLE or sub.cancel_at_period_end:
        raise Conflict("Only an active membership that is not cancelled can change plan.")
    price = db.session.get(Price, price_id)
    plan = db.session.get(Plan, price.plan_id) if price is not None else None
    if price is None or plan is None or not price.active or plan.kind is not PlanKind.MEMBERSHIP \
            or price.amount_minor is None:
        raise bad("/price_id", "not a membership price")
    if price.currency != sub.currency:
        raise bad("/price_id", f"the subscription is billed in {sub.currency}")
    if price.id == sub.price_id:
        with processor_errors():
            schedules.release_schedule(sub.stripe_subscription_id)  # "keep my plan": drop a pending downgrade
        return sub
    stripe_price = ensure_price(price)
    assert stripe_price is not None  # a fixed-amount price always has one
    metadata = {**_stripe_item(sub)[1], "price_id": str(price.id), "plan_code": plan.code}
    if _monthly(price.amount_minor, price.interval) <= _monthly(sub.unit_amount_minor, sub.interval):
        with processor_errors():
            schedules.defer_price(sub.stripe_subscription_id, stripe_price, metadata=metadata)
        return _resync(sub.stripe_subscription_id)
    item_id = _stripe_item(sub)[0]
    with processor_errors():
        schedules.release_schedule(sub.stripe_subscription_id)
        remote.switch_price(sub.stripe_subscription_id, item_id, stripe_price, invoice_now=True,
                            metadata=metadata, idempotency_key=idempotency_key(
                                "plan", sub.stripe_subscription_id, sub.stripe_price_id, stripe_price))
    return _resync(sub.stripe_subscription_id)


def pending_plan(sub: Subscription) -> tuple[Price, Plan, datetime] | None:
    """The tier a scheduled downgrade moves this subscription to, and from when."""
    if sub.stream is not Stream.MEMBERSHIP or sub.status in TERMINAL_SUBSCRIPTION_STATUSES:
        return None
    with processor_errors():
        change = schedules.pending_change(sub.stripe_subscription_id)
    if change is None:
        return None
    found = db.session.execute(select(Price, Plan).join(Plan).where(
        Price.stripe_price_id == change.stripe_price_id)).first()
    if found is None:
        return None
    return found[0], found[1], datetime.fromtimestamp(change.starts_at, UTC)


def change_amount(reader: Reader, subscription_id: int, amount: str) -> Subscription:
    sub = own_subscription(reader, subscription_id)
    if sub.stream is not Stream.RECURRING_DONATION or sub.status not in _CHANGEABLE:
        raise Conflict("Only an active recurring gift can change its amount.")
    item_id, metadata = _stripe_item(sub)
    price = db.session.get(Price, int(metadata["price_id"])) if str(metadata.get("price_id", "")).isdigit() else None
    if price is None:
        price = db.session.scalar(select(Price).join(Plan).where(
            Plan.kind == PlanKind.RECURRING_DONATION, Price.currency == sub.currency, Price.interval == sub.interval))
    if price is None:
        raise Conflict("This gift's offering no longer exists.")
    plan = db.session.get(Plan, price.plan_id)
    assert plan is not None
    minor = parse_amount(amount, price)
    if minor == sub.unit_amount_minor:
        return sub
    product = ensure_product(plan)
    with processor_errors():
        remote.set_amount(sub.stripe_subscription_id, item_id, currency=sub.currency, product_id=product,
                          unit_amount=minor, interval=sub.interval.value,
                          metadata={**metadata, "amount_minor": str(minor), "fee_cover_minor": "0"})
    return _resync(sub.stripe_subscription_id)


def portal_url(reader: Reader, return_url: str) -> str:
    customer = ensure_customer(reader)
    with processor_errors():
        return gateway_portal_url(customer, return_url)
