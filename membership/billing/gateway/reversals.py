"""Refunds and disputes: money going back, each with its own balance transactions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.gateway.balance import BalanceTransaction, resolve_balance_transaction
from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, every, id_of


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str  # upper case
    status: str
    reason: str | None
    failure_reason: str | None
    txn: BalanceTransaction | None
    failure_txn: BalanceTransaction | None  # when a refund failed after moving money


@dataclass(frozen=True)
class ChargeRefunds:
    refunds: list[Refund]
    amount_refunded: int  # the charge's own total, to check ours against


@dataclass(frozen=True)
class Dispute:
    id: str
    charge_id: str | None
    amount: int
    currency: str  # upper case
    status: str
    reason: str | None
    created: int
    txns: list[BalanceTransaction]


def refund_of(data: dict[str, Any]) -> Refund:
    """A refund Stripe rendered (as a dict) as a plain value; balance transactions
    known only by id are fetched."""
    return Refund(
        id=str(data["id"]), amount=int(data["amount"]), currency=str(data["currency"]).upper(),
        status=str(data["status"]), reason=data.get("reason"), failure_reason=data.get("failure_reason"),
        txn=resolve_balance_transaction(data.get("balance_transaction")),
        failure_txn=resolve_balance_transaction(data.get("failure_balance_transaction")))


@translating
def charge_refunds(charge_id: str) -> ChargeRefunds:
    """Every refund of the charge (balance transactions expanded) and its amount_refunded."""
    client = stripe_client()
    page = client.v1.refunds.list(params={
        "charge": charge_id, "limit": 100,
        "expand": ["data.balance_transaction", "data.failure_balance_transaction"]})
    refunds = [refund_of(r) for r in every(page)]
    charge = client.v1.charges.retrieve(charge_id)
    return ChargeRefunds(refunds, int(getattr(charge, "amount_refunded", 0) or 0))


@translating
def fetch_dispute(dispute_id: str) -> Dispute:
    data = as_dict(stripe_client().v1.disputes.retrieve(dispute_id))
    txns = [t for ref in data.get("balance_transactions") or [] if (t := resolve_balance_transaction(ref))]
    return Dispute(
        id=str(data["id"]), charge_id=id_of(data.get("charge")), amount=int(data["amount"]),
        currency=str(data["currency"]).upper(), status=str(data["status"]), reason=data.get("reason"),
        created=int(data["created"]), txns=txns)


@translating
def charge_of_refund(refund_id: str) -> str | None:
    return id_of(as_dict(stripe_client().v1.refunds.retrieve(refund_id)).get("charge"))


@translating
def charge_of_dispute(dispute_id: str) -> str | None:
    return id_of(as_dict(stripe_client().v1.disputes.retrieve(dispute_id)).get("charge"))
