"""Does a notice still apply when its turn comes to be sent?

Renewal-law notices can be recorded days ahead (a price change 21 days before) or
retried for hours; by then the reader may have cancelled. Telling someone their
cancelled membership "renews automatically" is wrong, so those rows end as
`suppressed` with the reason; so does a price change whose legal window closed
unsent (the subscription stays on its price). Receipts, failed-payment and cancellation notices
always apply: they report something that already happened. Nothing goes to a reader
whose data was erased (identity registers that check).
"""

from __future__ import annotations

import json

from membership.billing.models import Subscription
from membership.db import utcnow
from membership.enums import Interval, SubscriptionStatus
from membership.extensions import db
from membership.mail.kinds import relevance_check
from membership.mail.models import Notice

LIVE = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE})
AUTO_RENEWAL_KINDS = frozenset(
    {"renewal_notice", "annual_reminder", "price_change", "card_expiring", "trial_ending", "trial_will_end"}
)


@relevance_check
def subscription_still_renews(notice: Notice) -> str | None:
    """None when the notice should go; otherwise a short reason it should not."""
    if notice.kind not in AUTO_RENEWAL_KINDS:
        return None
    context = json.loads(notice.context or "{}")
    sub_id = context.get("subscription_id")
    sub = db.session.get(Subscription, int(sub_id)) if sub_id is not None else None
    if sub is None:
        return None  # rendering reports the missing row as a failure
    if sub.status not in LIVE:
        return f"subscription is {sub.status.value}"
    if sub.cancel_at_period_end or sub.cancel_at is not None:
        return "subscription is set to cancel"
    if notice.kind == "price_change" and notice.window_closes_at is not None and utcnow() > notice.window_closes_at:
        # billing/price_change_apply.py keeps this subscription on its price: the mail would be untrue
        return "too late: the change will not apply to this subscription"
    return _kind_specific(notice.kind, sub, context)


def _kind_specific(kind: str, sub: Subscription, context: dict[str, object]) -> str | None:
    if kind in ("trial_ending", "trial_will_end") and sub.status != SubscriptionStatus.TRIALING:
        return "trial is over"
    if kind == "price_change" and context.get("price_id") not in (None, sub.price_id):
        return "subscription moved to another price"
    annual = sub.interval == Interval.YEAR or (sub.interval == Interval.MONTH and sub.interval_count >= 12)
    if kind == "renewal_notice" and not annual:
        return "subscription is no longer on an annual term"
    return None
