"""The journal groups each money event posts, in one place so every path books alike.

Chart of accounts use (amounts from Stripe's balance transactions, in their currency):
- charge:  Dr stripe_clearing (net) + Dr processor_fees (fee)
           / Cr deferred_revenue (membership gross) or Cr donation_revenue (donations).
- recognition (recognition.py): Dr deferred_revenue / Cr membership_revenue.
- refund (booked once it has succeeded; see handlers/refunds.py):
           Dr refunds (what was already recognised: donations in full) + Dr deferred_revenue
           (what was still deferred) / Cr stripe_clearing. Refunds go to the contra-revenue
           account `refunds` rather than debiting revenue, so the cash summary can show gross
           sales and refunds apart while net revenue = revenue - refunds stays right.
- refund failure: the exact mirror of the refund (a re-reversal), from its own balance txn.
- dispute withdrawal: Dr chargebacks (+ deferred part) + Dr dispute_fees / Cr stripe_clearing;
  reinstatement: the mirror, with the fee Stripe returns.
- payout:  Dr bank / Cr stripe_clearing, split by stream.
Every line carries the payment's stream, so each stream's books balance on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import Line, credit, debit, find, post
from membership.ledger.models import Account, JournalTransaction, RevenueSchedule
from membership.ledger.recognition import allocate, reverse, schedules_of


class Payment(Protocol):
    """What the ledger needs to know of a settled charge. Billing's Payment row has these
    fields; the ledger takes any such value and never imports billing (it sits below it)."""

    @property
    def id(self) -> int: ...
    @property
    def stream(self) -> Stream: ...
    @property
    def currency(self) -> str: ...
    @property
    def gross_minor(self) -> int: ...
    @property
    def fee_minor(self) -> int: ...
    @property
    def net_minor(self) -> int: ...
    @property
    def stripe_charge_id(self) -> str: ...
    @property
    def paid_at(self) -> datetime: ...
    @property
    def reader_id(self) -> int | None: ...


@dataclass(frozen=True)
class ServiceLine:
    """One invoice line's service period and billed amount (weights the payment's gross)."""

    amount_minor: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Movement:
    """A Stripe balance transaction: amount and fee signed as Stripe signs them."""

    id: str
    amount_minor: int
    fee_minor: int
    net_minor: int
    currency: str
    created_at: datetime


def is_deferred(payment: Payment) -> bool:
    return payment.stream is Stream.MEMBERSHIP


def post_charge(payment: Payment, service_lines: Sequence[ServiceLine]) -> JournalTransaction | None:
    """Book a settled charge; membership money is deferred over its lines' periods.

    Membership with no service period at all is recognised at once (nothing to spread).
    """
    cur, stream = payment.currency, payment.stream
    lines = [debit(Account.STRIPE_CLEARING, payment.net_minor, cur, stream),
             debit(Account.PROCESSOR_FEES, payment.fee_minor, cur, stream)]
    periods = [s for s in service_lines if s.amount_minor and s.end > s.start]
    if not is_deferred(payment):
        lines.append(credit(Account.DONATION_REVENUE, payment.gross_minor, cur, stream))
    elif not periods:
        lines.append(credit(Account.MEMBERSHIP_REVENUE, payment.gross_minor, cur, stream))
    else:
        lines.append(credit(Account.DEFERRED_REVENUE, payment.gross_minor, cur, stream))
        if not schedules_of(payment.id):
            shares = allocate(payment.gross_minor, [s.amount_minor for s in periods])
            db.session.add_all(
                RevenueSchedule(payment_id=payment.id, stream=stream, amount_minor=share, currency=cur,
                                service_start=s.start, service_end=s.end)
                for s, share in zip(periods, shares, strict=True) if share
            )
            db.session.flush()
    return post(f"charge:{payment.stripe_charge_id}", "charge", payment.paid_at, lines,
                memo=f"charge {payment.stripe_charge_id}", reader_id=payment.reader_id, payment_id=payment.id)


def post_reversal(payment: Payment, movement: Movement, *, key: str, kind: str, contra: Account,
                  fee_account: Account) -> JournalTransaction | None:
    """Book money leaving (refund, chargeback) or coming back (failure, reinstatement).

    `movement.amount_minor` < 0 takes money out of the payment; > 0 gives it back. The
    revenue side is split into what was recognised (-> `contra`) and what was still
    deferred (-> deferred_revenue), pro rata over the payment's schedules.
    """
    if find(key) is not None:
        return None
    cur, stream = movement.currency.upper(), payment.stream
    taken = -movement.amount_minor  # > 0 when money leaves
    if is_deferred(payment):
        recognised, deferred = reverse(schedules_of(payment.id), taken)
    else:
        recognised, deferred = taken, 0
    lines: list[Line] = [
        debit(Account.STRIPE_CLEARING, movement.net_minor, cur, stream),
        debit(fee_account, movement.fee_minor, cur, stream),
        debit(contra, recognised, cur, stream),
        debit(Account.DEFERRED_REVENUE, deferred, cur, stream),
    ]
    return post(key, kind, movement.created_at, lines, memo=f"{kind} {movement.id} of {payment.stripe_charge_id}",
                reader_id=payment.reader_id, payment_id=payment.id)


def post_payout(stripe_payout_id: str, amount_minor: int, currency: str, at: datetime,
                by_stream: dict[Stream | None, int]) -> JournalTransaction | None:
    """Clearing -> bank. Split by the streams of the payout's lines; any unexplained
    difference (a mismatch, stored on the payout) moves unattributed so bank = payout."""
    parts = dict(by_stream)
    parts[None] = parts.get(None, 0) + amount_minor - sum(by_stream.values())
    lines: list[Line] = []
    for stream, amount in sorted(parts.items(), key=lambda kv: kv[0] or ""):
        lines += [debit(Account.BANK, amount, currency, stream), credit(Account.STRIPE_CLEARING, amount, currency, stream)]
    return post(f"payout:{stripe_payout_id}", "payout", at, lines, memo=f"payout {stripe_payout_id}")
