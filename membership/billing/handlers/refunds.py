"""Refunds: their own rows and reversing journal groups; the payment is never edited.

Every refund event (charge.refunded, refund.created/updated/failed) only names the
charge: we re-fetch all of that charge's refunds and bring each row and its postings
up to date, so partial refunds, several refunds and out-of-order events all converge.

When money is booked: a refund is reversed in the journal once it has *succeeded*
(a pending refund may still fail). A refund that fails before we booked it moved no
money for us; one that fails after (Stripe can fail a succeeded refund) gets a
re-reversal from its failure balance transaction. `charge.refunded` carries
`amount_refunded` (partial refunds leave `refunded` false); we check our succeeded
refunds against the re-fetched charge's `amount_refunded` and log any difference.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from membership.billing.events import RetryLater, StripeEvent, handles
from membership.billing.gateway import reversals
from membership.billing.gateway.balance import BalanceTransaction
from membership.billing.handlers.money_common import lock, movement, payment_for_charge
from membership.billing.handlers.payouts import attribute_late_source
from membership.billing.models import Payment, Refund
from membership.db import utcnow
from membership.extensions import db
from membership.ledger.journal import find
from membership.ledger.models import Account
from membership.ledger.postings import Movement, post_reversal

log = logging.getLogger(__name__)
_UNDONE = ("failed", "canceled")


@handles("charge.refunded", "refund.created", "refund.updated", "refund.failed")
def on_refund_event(event: StripeEvent) -> None:
    obj = event.object
    charge = obj.get("id") if obj.get("object") == "charge" else obj.get("charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    if charge:
        sync_refunds(str(charge))


def sync_refunds(charge_id: str) -> list[Refund]:
    """Bring every refund of the charge (rows + journal) up to date. Flushes only."""
    lock(f"charge:{charge_id}")
    payment = payment_for_charge(charge_id)
    if payment is None:
        raise RetryLater(f"no payment recorded yet for charge {charge_id}")
    remote = reversals.charge_refunds(charge_id)
    rows = [_sync_one(payment, refund) for refund in remote.refunds]
    succeeded = sum(r.amount_minor for r in rows if r.status == "succeeded")
    pending = sum(r.amount_minor for r in rows if r.status == "pending")
    if succeeded + pending != remote.amount_refunded:
        log.warning("refunds do not add up to the charge's amount_refunded",
                    extra={"charge": charge_id, "ours": succeeded + pending, "stripe": remote.amount_refunded})
    db.session.flush()
    return rows


def _sync_one(payment: Payment, refund: reversals.Refund) -> Refund:
    row = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == refund.id))
    if row is None:
        row = Refund(payment_id=payment.id, stripe_refund_id=refund.id, amount_minor=refund.amount,
                     currency=refund.currency, status=refund.status)
        db.session.add(row)
        attribute_late_source(refund.id, payment.stream)
    txn = refund.txn
    row.status = refund.status
    row.amount_minor = refund.amount
    row.reason = refund.reason
    row.failure_reason = refund.failure_reason
    row.balance_transaction_id = txn.id if txn else None
    db.session.flush()
    booked = find(_key(refund.id)) is not None
    if row.status == "succeeded" and txn is not None and not booked:
        _post(payment, movement(txn), _key(refund.id), "refund")
    elif row.status in _UNDONE and booked:
        back = movement(refund.failure_txn) if refund.failure_txn else _mirror(txn, refund)
        _post(payment, back, _key(refund.id, failed=True), "refund_failure")
    return row


def _key(refund_id: str, failed: bool = False) -> str:
    return f"{'refund_failure' if failed else 'refund'}:{refund_id}"


def _post(payment: Payment, money: Movement, key: str, kind: str) -> None:
    post_reversal(payment, money, key=key, kind=kind, contra=Account.REFUNDS, fee_account=Account.PROCESSOR_FEES)


def _mirror(txn: BalanceTransaction | None, refund: reversals.Refund) -> Movement:
    """No failure balance transaction shown: undo exactly what the refund's booked."""
    if txn is None:
        return Movement(f"{refund.id}:failure", refund.amount, 0, refund.amount, refund.currency, utcnow())
    base = movement(txn)
    return Movement(f"{base.id}:failure", -base.amount_minor, -base.fee_minor, -base.net_minor, base.currency,
                    base.created_at)
