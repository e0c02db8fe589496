"""Payout reconciliation: which balance transactions a payout paid out, by stream.

On payout.paid / payout.reconciliation_completed we re-fetch the payout, list its
balance transactions (`payout=po_...`), store one PayoutLine per transaction (the
payout's own transaction excluded) with the stream of the payment it belongs to,
and compare the lines' net sum with the payout amount: equal -> reconciled, else
the difference is stored for finance. The journal moves the amount from
stripe_clearing to bank, split by stream.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from membership.billing.events import StripeEvent, handles
from membership.billing.gateway import payouts as remote
from membership.billing.gateway import reversals
from membership.billing.gateway.balance import BalanceTransaction
from membership.billing.handlers.money_common import lock, payment_for_charge, ts
from membership.billing.models import Dispute, Payment, Payout, PayoutLine, Refund
from membership.db import utcnow
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import credit, debit, find, post
from membership.ledger.models import Account, LedgerEntry
from membership.ledger.postings import post_payout
from membership.money import format_money


@handles("payout.paid", "payout.reconciliation_completed", "payout.updated", "payout.failed")
def on_payout_event(event: StripeEvent) -> None:
    if event.object_id:
        sync_payout(event.object_id)


def sync_payout(payout_id: str) -> Payout:
    lock(f"payout:{payout_id}")
    payout = remote.fetch_payout(payout_id)
    row = _upsert(payout)
    if row.status == "failed":
        reverse_failed_payout(row)
    if row.status != "paid":
        return row
    lines = [_line(row, txn) for txn in remote.payout_transactions(payout_id)]
    _reconcile(row, lines)
    by_stream: dict[Stream | None, int] = defaultdict(int)
    for line in lines:
        by_stream[line.stream] += line.net_minor
    post_payout(payout_id, row.amount_minor, row.currency, row.arrival_date or ts(payout.created), by_stream)
    db.session.flush()
    return row


def _upsert(payout: remote.Payout) -> Payout:
    row = db.session.scalar(select(Payout).where(Payout.stripe_payout_id == payout.id))
    if row is None:
        row = Payout(stripe_payout_id=payout.id, amount_minor=payout.amount, currency=payout.currency,
                     status=payout.status)
        db.session.add(row)
    row.amount_minor = payout.amount
    row.status = payout.status
    row.arrival_date = ts(payout.arrival_date) if payout.arrival_date else None
    db.session.flush()
    return row


def _line(payout: Payout, txn: BalanceTransaction) -> PayoutLine:
    stream = stream_of_source(txn.source_id)  # before the new row exists: lookups autoflush
    line = db.session.scalar(select(PayoutLine).where(PayoutLine.balance_transaction_id == txn.id))
    if line is None:
        line = PayoutLine(payout_id=payout.id, balance_transaction_id=txn.id)
        db.session.add(line)
    line.type = txn.type
    line.reporting_category = txn.reporting_category
    line.source_id = txn.source_id
    line.amount_minor, line.fee_minor, line.net_minor = txn.amount, txn.fee, txn.net
    line.currency = txn.currency
    if line.stream is None and stream is not None:
        _attribute(line, stream)
    return line


def attribute_late_source(source_id: str, stream: Stream) -> None:
    """A charge, refund or dispute was recorded after a payout paid it out (its events
    were still retrying when the payout's arrived): give its payout lines their stream.
    Called where those rows are first recorded. Flushes only."""
    lines = db.session.scalars(select(PayoutLine).where(PayoutLine.source_id == source_id,
                                                        PayoutLine.stream.is_(None))).all()
    for line in lines:
        _attribute(line, stream)


def _attribute(line: PayoutLine, stream: Stream) -> None:
    """Set a line's stream; if its payout is already in the journal (booked unattributed),
    move the line's net from unattributed to the stream on both sides, once per line."""
    line.stream = stream
    payout = db.session.get(Payout, line.payout_id)
    if payout is None or find(f"payout:{payout.stripe_payout_id}") is None:
        return  # not booked yet: sync_payout books it by stream
    net, currency = line.net_minor, line.currency
    post(f"payout_line_stream:{line.balance_transaction_id}", "payout_attribution", utcnow(),
         [debit(Account.BANK, net, currency, stream), credit(Account.BANK, net, currency, None),
          debit(Account.STRIPE_CLEARING, net, currency, None), credit(Account.STRIPE_CLEARING, net, currency, stream)],
         memo=f"payout {payout.stripe_payout_id}: {line.source_id} is {stream.value}")


def stream_of_source(source_id: str | None) -> Stream | None:
    """The stream of the payment a charge, refund or dispute belongs to (None: not ours)."""
    payment = _payment_of_source(source_id)
    return payment.stream if payment is not None else None


def _payment_of_source(source_id: str | None) -> Payment | None:
    if not source_id:
        return None
    if source_id.startswith(("ch_", "py_")):
        return payment_for_charge(source_id)
    if source_id.startswith("re_"):
        refund = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == source_id))
        if refund is not None:
            return db.session.get(Payment, refund.payment_id)
        return payment_for_charge(reversals.charge_of_refund(source_id))
    if source_id.startswith(("du_", "dp_")):
        dispute = db.session.scalar(select(Dispute).where(Dispute.stripe_dispute_id == source_id))
        if dispute is not None:
            return db.session.get(Payment, dispute.payment_id)
        return payment_for_charge(reversals.charge_of_dispute(source_id))
    return None


def _reconcile(payout: Payout, lines: list[PayoutLine]) -> None:
    db.session.flush()
    total = sum(line.net_minor for line in lines)
    payout.lines_net_minor = total
    if total == payout.amount_minor and all(line.currency == payout.currency for line in lines):
        payout.mismatch_note = None
        payout.reconciled_at = payout.reconciled_at or utcnow()
        return
    payout.reconciled_at = None
    payout.mismatch_note = (f"balance transactions net {format_money(total, payout.currency)} but the payout is "
                            f"{format_money(payout.amount_minor, payout.currency)} "
                            f"(difference {format_money(total - payout.amount_minor, payout.currency)})")


def reverse_failed_payout(payout: Payout) -> None:
    """A payout can fail after it was reported paid (the bank returns it): the money is
    back in the Stripe balance, so the booked clearing -> bank move is mirrored."""
    booked = find(f"payout:{payout.stripe_payout_id}")
    if booked is None:
        return
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id == booked.id)).all()
    lines = [(credit if e.amount_minor > 0 else debit)(e.account, abs(e.amount_minor), e.currency, e.stream)
             for e in entries if e.account in (Account.BANK, Account.STRIPE_CLEARING)]
    post(f"payout_failed:{payout.stripe_payout_id}", "payout_failed", utcnow(), lines,
         memo=f"payout {payout.stripe_payout_id} failed")
    payout.reconciled_at = None
