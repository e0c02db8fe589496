"""Billing models, split by concern; import them from here."""

from membership.billing.models.catalog import Plan, PlanKind, Price
from membership.billing.models.checkout import (
    CheckoutSession,
    CheckoutStatus,
    ComplimentaryMembership,
    Donation,
    GiftMembership,
    TributeKind,
)
from membership.billing.models.money import (
    Dispute,
    Payment,
    Payout,
    PayoutLine,
    Refund,
)
from membership.billing.models.subscriptions import Subscription, SubscriptionEvent
from membership.billing.models.webhooks import WebhookEvent, WebhookStatus

__all__ = [
    "CheckoutSession",
    "CheckoutStatus",
    "ComplimentaryMembership",
    "Dispute",
    "Donation",
    "GiftMembership",
    "Payment",
    "Payout",
    "PayoutLine",
    "Plan",
    "PlanKind",
    "Price",
    "Refund",
    "Subscription",
    "SubscriptionEvent",
    "TributeKind",
    "WebhookEvent",
    "WebhookStatus",
]
