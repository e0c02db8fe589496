"""Payout reconciliation (REVENUE.md report 2): each payout that arrived in a period,
its balance-transaction lines summed by stream, and whether they add up to the amount
the bank received (the webhook worker reconciles; this shows the result)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from membership.billing.models import Payout, PayoutLine
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import local_date
from membership.reports.periods import day_start

NAME, VERSION = "payout-reconciliation", 1
UNATTRIBUTED = "unattributed"
COLUMNS = tuple(s.value for s in Stream) + (UNATTRIBUTED,)


@dataclass(frozen=True)
class PayoutRow:
    stripe_payout_id: str
    arrival_date: date | None
    status: str
    currency: str
    amount_minor: int
    lines_net_minor: int
    difference_minor: int
    reconciled: bool
    mismatch_note: str | None
    line_count: int
    net_by_stream: dict[str, int]  # every stream and "unattributed", zeros included


def payouts(start: date, end: date) -> list[PayoutRow]:
    """Payouts arriving in [start, end), by arrival date."""
    rows = db.session.scalars(
        select(Payout).where(Payout.arrival_date >= day_start(start), Payout.arrival_date < day_start(end))
        .order_by(Payout.arrival_date, Payout.id)).all()
    sums: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    counts: dict[int, int] = defaultdict(int)
    if rows:
        for payout_id, stream, net, n in db.session.execute(
                select(PayoutLine.payout_id, PayoutLine.stream, func.sum(PayoutLine.net_minor), func.count())
                .where(PayoutLine.payout_id.in_([p.id for p in rows]))
                .group_by(PayoutLine.payout_id, PayoutLine.stream)):
            sums[payout_id][stream.value if stream is not None else UNATTRIBUTED] += int(net)
            counts[payout_id] += int(n)
    out = []
    for p in rows:
        net = sum(sums[p.id].values())
        out.append(PayoutRow(p.stripe_payout_id, local_date(p.arrival_date) if p.arrival_date else None, p.status,
                             p.currency, p.amount_minor, net, net - p.amount_minor, p.reconciled_at is not None,
                             p.mismatch_note, counts[p.id], dict(sums[p.id])))
    return out
