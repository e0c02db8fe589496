"""Invoices and the charges that settled them, read in as few requests as Stripe allows.

`paid_invoice` is everything invoice.paid needs in one call from the handler: the
invoice, its lines (the service period: invoice.period_* is the previous period) and,
per paid invoice payment, the succeeded charge with its balance transaction. The
invoice is fetched with its payments and their charges expanded, so a paid invoice
costs two requests (invoice, balance transaction) instead of one per object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.gateway.balance import BalanceTransaction, resolve_balance_transaction
from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, currency, every, id_of, metadata

_EXPAND_PAYMENTS = ["payments.data.payment.payment_intent.latest_charge", "payments.data.payment.charge"]


@dataclass(frozen=True)
class Invoice:
    id: str
    status: str | None
    customer_id: str | None
    subscription_id: str | None  # post-basil: parent.subscription_details.subscription
    billing_reason: str | None
    metadata: dict[str, str]
    amount_due: int
    currency: str | None  # upper case
    attempt_count: int
    next_payment_attempt: int | None


@dataclass(frozen=True)
class InvoiceLine:
    amount: int
    quantity: int
    price_id: str | None
    period_start: int | None
    period_end: int | None


@dataclass(frozen=True)
class SettledCharge:
    """A succeeded charge. `txn` is None while Stripe has not booked its balance
    transaction yet (the caller retries later)."""

    charge_id: str
    created: int
    payment_intent_id: str | None
    txn: BalanceTransaction | None


@dataclass(frozen=True)
class PaidInvoice:
    invoice: Invoice
    lines: list[InvoiceLine]
    charges: list[SettledCharge]


def _invoice(data: dict[str, Any]) -> Invoice:
    details = (data.get("parent") or {}).get("subscription_details") or {}
    nxt = data.get("next_payment_attempt")
    return Invoice(
        id=str(data["id"]), status=data.get("status"), customer_id=id_of(data.get("customer")),
        subscription_id=id_of(details.get("subscription")), billing_reason=data.get("billing_reason"),
        metadata=metadata(data), amount_due=int(data.get("amount_due") or 0), currency=currency(data.get("currency")),
        attempt_count=int(data.get("attempt_count") or 0), next_payment_attempt=int(nxt) if nxt is not None else None)


def _price_id(line: dict[str, Any]) -> str | None:
    details = (line.get("pricing") or {}).get("price_details") or {}
    return id_of(details.get("price") or line.get("price"))


def _line(line: dict[str, Any]) -> InvoiceLine:
    period = line.get("period") or {}
    start, end = period.get("start"), period.get("end")
    return InvoiceLine(amount=int(line["amount"]), quantity=int(line.get("quantity") or 1), price_id=_price_id(line),
                       period_start=int(start) if start else None, period_end=int(end) if end else None)


def _settled(charge: Any, payment_intent_id: str | None) -> SettledCharge | None:
    if not isinstance(charge, dict) or charge.get("status") != "succeeded":
        return None
    return SettledCharge(str(charge["id"]), int(charge["created"]),
                         payment_intent_id or id_of(charge.get("payment_intent")),
                         resolve_balance_transaction(charge.get("balance_transaction")))


def _charge_of_payment(payment: dict[str, Any]) -> SettledCharge | None:
    """One invoice payment's charge: through its PaymentIntent, or a charge paid directly."""
    client = stripe_client()
    if payment.get("type") == "payment_intent" and payment.get("payment_intent"):
        intent = payment["payment_intent"]
        if not isinstance(intent, dict):  # not expanded (a page beyond the invoice's own)
            return settled_intent(str(intent))
        return _settled(intent.get("latest_charge"), str(intent["id"]))
    if payment.get("type") == "charge" and payment.get("charge"):
        charge = payment["charge"]
        if not isinstance(charge, dict):
            charge = as_dict(client.v1.charges.retrieve(str(charge), params={"expand": ["balance_transaction"]}))
        return _settled(charge, None)
    return None


def _payments(data: dict[str, Any]) -> list[dict[str, Any]]:
    included = data.get("payments")
    if isinstance(included, dict) and not included.get("has_more"):
        return list(included.get("data") or [])
    return list(every(stripe_client().v1.invoice_payments.list(params={"invoice": data["id"], "limit": 100})))


def _lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    lines = data.get("lines") or {}
    if not lines.get("has_more"):
        return list(lines.get("data") or [])
    return list(every(stripe_client().v1.invoices.line_items.list(data["id"], params={"limit": 100})))


@translating
def fetch_invoice(invoice_id: str) -> Invoice:
    return _invoice(as_dict(stripe_client().v1.invoices.retrieve(invoice_id)))


@translating
def paid_invoice(invoice_id: str) -> PaidInvoice | None:
    """The invoice with its lines and settled charges; None unless it is paid now."""
    data = as_dict(stripe_client().v1.invoices.retrieve(invoice_id, params={"expand": _EXPAND_PAYMENTS}))
    if data.get("status") != "paid":
        return None
    charges = [_charge_of_payment(p.get("payment") or {}) for p in _payments(data) if p.get("status") == "paid"]
    return PaidInvoice(_invoice(data), [_line(ln) for ln in _lines(data)], [c for c in charges if c is not None])


@translating
def settled_intent(payment_intent_id: str) -> SettledCharge | None:
    """A PaymentIntent's latest charge, if it succeeded."""
    intent = as_dict(stripe_client().v1.payment_intents.retrieve(
        payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}))
    return _settled(intent.get("latest_charge"), payment_intent_id)
