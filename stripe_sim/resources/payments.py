"""PaymentIntents and charges: where a test card's behaviour decides the outcome."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim, list_object
from ..listing import paginate
from ..money import stripe_fee
from ..params import as_bool, as_int, as_str, metadata
from ..routing import Request, route
from .ledger import add_txn
from .payment_methods import DECLINE_MESSAGES, behaviour, resolve_pm

_DECLINES = ("generic_decline", "insufficient_funds", "expired_card")


def create_pi(sim: Sim, *, amount: int, currency: str, customer: str | None, pm: str | None,
              description: str | None = None, md: dict[str, Any] | None = None,
              setup_future_usage: str | None = None) -> dict[str, Any]:
    clock = sim.clock_of_customer(customer)
    pi = sim.new("pi", "payment_intent", clock, {
        "amount": amount, "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0,
        "application": None, "application_fee_amount": None,
        "automatic_payment_methods": None, "canceled_at": None, "cancellation_reason": None,
        "capture_method": "automatic", "client_secret": None, "confirmation_method": "automatic",
        "currency": currency, "customer": customer, "customer_account": None, "description": description,
        "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": None,
        "managed_payments": None, "metadata": md or {}, "next_action": None, "on_behalf_of": None,
        "payment_method": pm, "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": None, "review": None,
        "setup_future_usage": setup_future_usage, "shipping": None, "source": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_confirmation" if pm else "requires_payment_method",
        "transfer_data": None, "transfer_group": None,
    })
    pi["client_secret"] = f"{pi['id']}_secret_{sim.store.new_id('s', 16)[2:]}"
    sim.emit("payment_intent.created", pi)
    return pi


def _card_details(sim: Sim, pm: dict[str, Any] | None) -> dict[str, Any]:
    card = (pm or {}).get("card") or {}
    return {"card": {"amount_authorized": None, "brand": card.get("brand"), "checks": card.get("checks"),
                     "country": "US", "exp_month": card.get("exp_month"), "exp_year": card.get("exp_year"),
                     "fingerprint": card.get("fingerprint"), "funding": "credit", "installments": None,
                     "last4": card.get("last4"), "mandate": None, "network": card.get("brand"),
                     "network_token": {"used": False}, "network_transaction_id": None, "three_d_secure": None,
                     "wallet": None, "regulated_status": "unregulated", "authorization_code": "123456"},
            "type": "card"}


def confirm_pi(sim: Sim, pi: dict[str, Any], pm_id: str | None, off_session: bool,
               description: str | None = None) -> tuple[dict[str, Any], bool]:
    """One charge attempt; emits charge.* and payment_intent.*; returns (charge, succeeded)."""
    clock = sim.clock_of(pi)
    pm = sim.store.find(pm_id) if pm_id else None
    b = behaviour(sim, pm_id) if pm is not None else "none"
    decline = b in _DECLINES or b == "none" or (b == "customer_fail" and off_session)
    decline_code = b if b in _DECLINES else "generic_decline"
    amount, currency = pi["amount"], pi["currency"]
    ch = sim.new("ch", "charge", clock, {
        "amount": amount, "amount_captured": 0 if decline else amount, "amount_refunded": 0, "application": None,
        "application_fee": None, "application_fee_amount": None, "balance_transaction": None,
        "billing_details": (pm or {}).get("billing_details"), "calculated_statement_descriptor": "STRIPE SIM",
        "captured": not decline, "currency": currency, "customer": pi["customer"],
        "description": description or pi["description"], "disputed": False, "failure_balance_transaction": None,
        "failure_code": "card_declined" if decline else None,
        "failure_message": DECLINE_MESSAGES.get(decline_code) if decline else None, "fraud_details": {},
        "metadata": dict(pi["metadata"]), "on_behalf_of": None,
        "outcome": {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                    "network_status": "declined_by_network" if decline else "approved_by_network",
                    "reason": decline_code if decline else None, "risk_level": "normal", "risk_score": 20,
                    "seller_message": ("The bank did not return any further details with this decline."
                                       if decline else "Payment complete."),
                    "type": "issuer_declined" if decline else "authorized"},
        "paid": not decline, "payment_intent": pi["id"], "payment_method": pm_id,
        "payment_method_details": _card_details(sim, pm), "receipt_email": None, "receipt_number": None,
        "receipt_url": None, "refunded": False, "review": None, "shipping": None, "source": None,
        "source_transfer": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "failed" if decline else "succeeded", "transfer_data": None, "transfer_group": None,
    })
    ch["receipt_url"] = f"{sim.url}/receipts/{ch['id']}"
    pi["latest_charge"] = ch["id"]
    pi["payment_method"] = pm_id
    if decline:
        pi["status"] = "requires_payment_method"
        pi["last_payment_error"] = {"charge": ch["id"], "code": "card_declined", "decline_code": decline_code,
                                    "message": DECLINE_MESSAGES.get(decline_code), "type": "card_error",
                                    "payment_method": sim.render(pm) if pm else None}
        sim.emit("charge.failed", ch)
        sim.emit("payment_intent.payment_failed", pi)
        return ch, False
    fee = stripe_fee(amount, sim.config.fee_percent_bps, sim.config.fee_fixed_minor)
    txn = add_txn(sim, amount=amount, currency=currency, fee=fee, type_="charge", category="charge",
                  source=ch["id"], description=ch["description"], clock=clock)
    ch["balance_transaction"] = txn["id"]
    pi.update(status="succeeded", amount_received=amount, last_payment_error=None)
    sim.emit("charge.succeeded", ch)
    sim.emit("payment_intent.succeeded", pi)
    if b == "dispute":
        sim.schedule(clock, sim.now(clock), "dispute_open", ch["id"])
    return ch, True


def decline_error(sim: Sim, ch: dict[str, Any], pi: dict[str, Any]) -> errors.StripeError:
    code = ch["outcome"]["reason"] or "generic_decline"
    return errors.card_declined(code, DECLINE_MESSAGES.get(code, "Your card was declined."), ch["id"],
                                sim.render(pi))


def _render_charge(sim: Sim, obj: dict[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    refunds = [sim.render(r) for r in sim.store.iter_newest("refund", lambda r: r["charge"] == obj["id"])]
    out["refunds"] = list_object(refunds, f"/v1/charges/{obj['id']}/refunds")
    return out


RENDERERS["charge"] = _render_charge


@route("POST", "/v1/payment_intents")
def _create_pi(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    amount = as_int(p, "amount", required=True) or 0
    if amount < 1:
        raise errors.invalid("This value must be greater than or equal to 1.", "amount")
    customer = as_str(p, "customer")
    if customer:
        sim.store.get(customer, "customer", "customer")
    pm_ref = as_str(p, "payment_method")
    pm = resolve_pm(sim, pm_ref, customer) if pm_ref else None
    pi = create_pi(sim, amount=amount, currency=(as_str(p, "currency", required=True) or "").lower(),
                   customer=customer, pm=pm["id"] if pm else None, description=as_str(p, "description"),
                   md=metadata(p), setup_future_usage=as_str(p, "setup_future_usage"))
    if as_bool(p, "confirm", False):
        return _confirm(sim, pi, pi["payment_method"], bool(as_bool(p, "off_session", False)))
    return sim.render(pi)


def _confirm(sim: Sim, pi: dict[str, Any], pm_id: str | None, off_session: bool) -> dict[str, Any]:
    if pi["status"] in ("succeeded", "canceled"):
        raise errors.invalid(f"This PaymentIntent's status is {pi['status']} and cannot be confirmed.")
    if not pm_id:
        raise errors.invalid("You cannot confirm this PaymentIntent because it's missing a payment method.",
                             "payment_method", code="payment_intent_unexpected_state")
    ch, ok = confirm_pi(sim, pi, pm_id, off_session)
    if not ok:
        raise decline_error(sim, ch, pi)
    return sim.render(pi)


@route("POST", "/v1/payment_intents/{id}/confirm")
def _confirm_route(sim: Sim, req: Request) -> dict[str, Any]:
    pi = sim.store.get(req.args["id"], "payment_intent")
    pm_ref = as_str(req.params, "payment_method")
    pm_id = resolve_pm(sim, pm_ref, pi["customer"])["id"] if pm_ref else pi["payment_method"]
    return _confirm(sim, pi, pm_id, bool(as_bool(req.params, "off_session", False)))


@route("POST", "/v1/payment_intents/{id}/cancel")
def _cancel_pi(sim: Sim, req: Request) -> dict[str, Any]:
    pi = sim.store.get(req.args["id"], "payment_intent")
    if pi["status"] == "succeeded":
        raise errors.invalid("You cannot cancel this PaymentIntent because it has a status of succeeded.")
    pi.update(status="canceled", canceled_at=sim.now(sim.clock_of(pi)),
              cancellation_reason=as_str(req.params, "cancellation_reason", "requested_by_customer"))
    sim.emit("payment_intent.canceled", pi)
    return sim.render(pi)


@route("GET", "/v1/payment_intents/{id}")
def _get_pi(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "payment_intent"))


@route("POST", "/v1/payment_intents/{id}")
def _update_pi(sim: Sim, req: Request) -> dict[str, Any]:
    pi = sim.store.get(req.args["id"], "payment_intent")
    if "metadata" in req.params:
        pi["metadata"] = metadata(req.params, pi["metadata"])
    if "description" in req.params:
        pi["description"] = req.params["description"] or None
    return sim.render(pi)


@route("GET", "/v1/payment_intents")
def _list_pi(sim: Sim, req: Request) -> dict[str, Any]:
    customer = as_str(req.params, "customer")
    return paginate(sim, req.params, "payment_intent", "/v1/payment_intents",
                    [(lambda o: o["customer"] == customer) if customer else None])


@route("GET", "/v1/charges/{id}")
def _get_charge(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "charge"))


@route("GET", "/v1/charges")
def _list_charges(sim: Sim, req: Request) -> dict[str, Any]:
    customer = as_str(req.params, "customer")
    pi = as_str(req.params, "payment_intent")
    return paginate(sim, req.params, "charge", "/v1/charges", [
        (lambda o: o["customer"] == customer) if customer else None,
        (lambda o: o["payment_intent"] == pi) if pi else None,
    ])


@route("POST", "/v1/charges/{id}")
def _update_charge(sim: Sim, req: Request) -> dict[str, Any]:
    ch = sim.store.get(req.args["id"], "charge")
    before = sim.render(ch)
    if "metadata" in req.params:
        ch["metadata"] = metadata(req.params, ch["metadata"])
    if "description" in req.params:
        ch["description"] = req.params["description"] or None
    sim.emit_updated("charge.updated", ch, before)
    return sim.render(ch)

