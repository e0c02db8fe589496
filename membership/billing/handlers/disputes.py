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
from typing import Any

from sqlalchemy import select

from membership.billing.events import RetryLater, StripeEvent, handles
from membership.billing.gateway import stripe_client
from membership.billing.handlers.money_common import balance_transaction, lock, movement, payment_for_charge, plain, ts
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
    dispute = plain(stripe_client().v1.disputes.retrieve(dispute_id))
    charge = dispute.get("charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    payment = payment_for_charge(charge_id)
    if payment is None:
        raise RetryLater(f"no payment recorded yet for disputed charge {charge_id}")
    txns = [t for ref in dispute.get("balance_transactions") or [] if (t := balance_transaction(ref))]
    row = _upsert(payment, dispute, txns, seen_at)
    for txn in txns:
        post_reversal(payment, movement(txn), key=f"dispute:{txn['id']}",
                      kind="dispute" if int(txn["amount"]) < 0 else "dispute_reversal",
                      contra=Account.CHARGEBACKS, fee_account=Account.DISPUTE_FEES)
    db.session.flush()
    return row


def _upsert(payment: Payment, dispute: dict[str, Any], txns: list[dict[str, Any]],
            seen_at: datetime | None) -> Dispute:
    row = db.session.scalar(select(Dispute).where(Dispute.stripe_dispute_id == dispute["id"]))
    if row is None:
        row = Dispute(payment_id=payment.id, stripe_dispute_id=dispute["id"], amount_minor=int(dispute["amount"]),
                      currency=str(dispute["currency"]).upper(), status=str(dispute["status"]))
        db.session.add(row)
        attribute_late_source(dispute["id"], payment.stream)
    row.amount_minor = int(dispute["amount"])
    row.status = str(dispute["status"])
    row.reason = dispute.get("reason")
    row.fee_minor = sum(int(t["fee"]) for t in txns)
    withdrawn = [ts(t["created"]) for t in txns if int(t["amount"]) < 0]
    reinstated = [ts(t["created"]) for t in txns if int(t["amount"]) > 0]
    row.funds_withdrawn_at = min(withdrawn) if withdrawn else None
    row.funds_reinstated_at = min(reinstated) if reinstated else None
    if row.status in CLOSED and row.closed_at is None:
        row.closed_at = seen_at or ts(dispute["created"])
    db.session.flush()
    return row
