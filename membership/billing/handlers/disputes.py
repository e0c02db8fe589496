"""Disputes (chargebacks): a row per dispute and a journal group per balance transaction.

Stripe moves money for a dispute through the dispute's own balance transactions:
`funds_withdrawn` (amount + dispute fee out) and, when won, `funds_reinstated`
(amount back, and the fee when Stripe returns it). Every dispute event re-fetches the
dispute and books each of its balance transactions once (keyed by transaction id),
so events arriving late, twice or out of order (closed before funds_reinstated)
leave the same books. Lost means the withdrawal stands: nothing more to post.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from membership.billing.events import RetryLater, StripeEvent, handles
from membership.billing.gateway import reversals
from membership.billing.gateway.balance import BalanceTransaction
from membership.billing.handlers.money_common import lock, movement, payment_for_charge, ts
from membership.billing.handlers.payouts import attribute_late_source
from membership.billing.models import Dispute, Payment
from membership.extensions import db
from membership.ledger.models import Account
from membership.ledger.postings import post_reversal

CLOSED = ("won", "lost", "warning_closed", "prevented")


@handles("charge.dispute.created", "charge.dispute.updated", "charge.dispute.funds_withdrawn",
         "charge.dispute.funds_reinstated", "charge.dispute.closed")
def on_dispute_event(event: StripeEvent) -> None:
    if event.object_id:
        sync_dispute(event.object_id, ts(event.created) if event.created else None)


def sync_dispute(dispute_id: str, seen_at: datetime | None = None) -> Dispute:
    lock(f"dispute:{dispute_id}")
    dispute = reversals.fetch_dispute(dispute_id)
    payment = payment_for_charge(dispute.charge_id)
    if payment is None:
        raise RetryLater(f"no payment recorded yet for disputed charge {dispute.charge_id}")
    row = _upsert(payment, dispute, seen_at)
    for txn in dispute.txns:
        post_reversal(payment, movement(txn), key=f"dispute:{txn.id}",
                      kind="dispute" if txn.amount < 0 else "dispute_reversal",
                      contra=Account.CHARGEBACKS, fee_account=Account.DISPUTE_FEES)
    db.session.flush()
    return row


def _upsert(payment: Payment, dispute: reversals.Dispute, seen_at: datetime | None) -> Dispute:
    txns: list[BalanceTransaction] = dispute.txns
    row = db.session.scalar(select(Dispute).where(Dispute.stripe_dispute_id == dispute.id))
    if row is None:
        row = Dispute(payment_id=payment.id, stripe_dispute_id=dispute.id, amount_minor=dispute.amount,
                      currency=dispute.currency, status=dispute.status)
        db.session.add(row)
        attribute_late_source(dispute.id, payment.stream)
    row.amount_minor = dispute.amount
    row.status = dispute.status
    row.reason = dispute.reason
    row.fee_minor = sum(t.fee for t in txns)
    withdrawn = [ts(t.created) for t in txns if t.amount < 0]
    reinstated = [ts(t.created) for t in txns if t.amount > 0]
    row.funds_withdrawn_at = min(withdrawn) if withdrawn else None
    row.funds_reinstated_at = min(reinstated) if reinstated else None
    if row.status in CLOSED and row.closed_at is None:
        row.closed_at = seen_at or ts(dispute.created)
    db.session.flush()
    return row
