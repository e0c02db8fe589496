"""Balance transactions: the money Stripe actually moved (amount, fee, net) for a
charge, refund, dispute or payout. Fees and net always come from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, id_of


@dataclass(frozen=True)
class BalanceTransaction:
    id: str
    amount: int
    fee: int
    net: int
    currency: str  # upper case
    created: int  # unix seconds
    type: str
    reporting_category: str
    source_id: str | None


def balance_transaction(data: dict[str, Any]) -> BalanceTransaction:
    """A balance transaction Stripe rendered (as a dict) as a plain value."""
    kind = str(data.get("type") or "")
    return BalanceTransaction(
        id=str(data["id"]), amount=int(data["amount"]), fee=int(data["fee"]), net=int(data["net"]),
        currency=str(data["currency"]).upper(), created=int(data["created"]), type=kind,
        reporting_category=str(data.get("reporting_category") or kind), source_id=id_of(data.get("source")))


def resolve_balance_transaction(ref: Any) -> BalanceTransaction | None:
    """An expanded balance transaction as is; one known only by id is fetched."""
    if not ref:
        return None
    if isinstance(ref, str):
        return fetch_balance_transaction(ref)
    return balance_transaction(as_dict(ref))


@translating
def fetch_balance_transaction(txn_id: str) -> BalanceTransaction:
    return balance_transaction(as_dict(stripe_client().v1.balance_transactions.retrieve(txn_id)))
