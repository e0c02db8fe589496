"""Payouts and the balance transactions each one paid out (for reconciliation)."""

from __future__ import annotations

from dataclasses import dataclass

from membership.billing.gateway.balance import BalanceTransaction, balance_transaction
from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, every


@dataclass(frozen=True)
class Payout:
    id: str
    amount: int
    currency: str  # upper case
    status: str
    arrival_date: int | None
    created: int


@translating
def fetch_payout(payout_id: str) -> Payout:
    data = as_dict(stripe_client().v1.payouts.retrieve(payout_id))
    arrival = data.get("arrival_date")
    return Payout(id=str(data["id"]), amount=int(data["amount"]), currency=str(data["currency"]).upper(),
                  status=str(data["status"]), arrival_date=int(arrival) if arrival else None,
                  created=int(data["created"]))


@translating
def payout_transactions(payout_id: str) -> list[BalanceTransaction]:
    """What the payout paid out: its balance transactions, the payout's own left out."""
    page = stripe_client().v1.balance_transactions.list(params={"payout": payout_id, "limit": 100})
    txns = [balance_transaction(t) for t in every(page)]
    return [t for t in txns if t.type != "payout" and t.source_id != payout_id]
