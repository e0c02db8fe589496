"""SetupIntents: save a card for later (off-session) payments without charging it.

Confirming checks the card the way Stripe's test cards behave at setup: a
card that declines every charge (``chargeDeclined*``, expired) fails the setup
(402, ``setup_intent.setup_failed``, status back to ``requires_payment_method``);
anything else succeeds and is attached to the customer. ``chargeCustomerFail``
sets up fine and only fails later, off-session, as in Stripe test mode.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..params import as_bool, as_list, as_str, metadata
from ..routing import Request, route
from .payment_methods import DECLINE_MESSAGES, attach, behaviour, resolve_pm

_FAILS = ("generic_decline", "insufficient_funds", "expired_card")


def create_setup_intent(sim: Sim, *, customer: str | None, pm: str | None, usage: str = "off_session",
                        description: str | None = None, md: dict[str, Any] | None = None) -> dict[str, Any]:
    if usage not in ("off_session", "on_session"):
        raise errors.invalid("Invalid usage: must be one of off_session or on_session", "usage")
    si = sim.new("seti", "setup_intent", sim.clock_of_customer(customer), {
        "application": None, "automatic_payment_methods": None, "cancellation_reason": None,
        "client_secret": None, "customer": customer, "description": description,
        "excluded_payment_method_types": None, "flow_directions": None, "last_setup_error": None,
        "latest_attempt": None, "mandate": None, "metadata": md or {}, "next_action": None, "on_behalf_of": None,
        "payment_method": pm, "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "single_use_mandate": None,
        "status": "requires_confirmation" if pm else "requires_payment_method", "usage": usage})
    si["client_secret"] = f"{si['id']}_secret_{sim.store.new_id('s', 24)[2:]}"
    sim.emit("setup_intent.created", si)
    return si


def confirm_setup(sim: Sim, si: dict[str, Any], pm_id: str | None) -> bool:
    """Check and attach the card; False (and ``setup_intent.setup_failed``) when it is refused."""
    if si["status"] in ("succeeded", "canceled"):
        raise errors.invalid(f"This SetupIntent's status is {si['status']} and cannot be confirmed.",
                             code="setup_intent_unexpected_state")
    if not pm_id:
        raise errors.invalid("You cannot confirm this SetupIntent because it's missing a payment method.",
                             "payment_method", code="setup_intent_unexpected_state")
    si["payment_method"] = pm_id
    code = behaviour(sim, pm_id)
    if code in _FAILS:
        pm = sim.store.get(pm_id)
        si.update(status="requires_payment_method", last_setup_error={
            "code": "card_declined" if code != "expired_card" else "expired_card", "decline_code": code,
            "message": DECLINE_MESSAGES[code], "payment_method": sim.render(pm), "type": "card_error"})
        sim.emit("setup_intent.setup_failed", si)
        return False
    if si["customer"]:
        attach(sim, sim.store.get(pm_id), si["customer"])
    si.update(status="succeeded", last_setup_error=None)
    sim.emit("setup_intent.succeeded", si)
    return True


def setup_for_checkout(sim: Sim, cus: dict[str, Any] | None, pm: dict[str, Any],
                       data: dict[str, Any]) -> dict[str, Any]:
    """Checkout ``mode=setup``: the session's SetupIntent, confirmed with the card the reader typed."""
    si = create_setup_intent(sim, customer=cus["id"] if cus else None, pm=pm["id"],
                             description=as_str(data, "description"), md=metadata(data))
    if not confirm_setup(sim, si, pm["id"]):
        raise _decline(sim, si)
    return si


def _decline(sim: Sim, si: dict[str, Any]) -> errors.StripeError:
    err = si["last_setup_error"] or {}
    return errors.StripeError(402, "card_error", str(err.get("message")), code=err.get("code"),
                              decline_code=err.get("decline_code"), extra={"setup_intent": sim.render(si)})


def _pm(sim: Sim, p: dict[str, Any]) -> str | None:
    ref = as_str(p, "payment_method")
    return resolve_pm(sim, ref, None)["id"] if ref else None


@route("POST", "/v1/setup_intents")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    customer = as_str(p, "customer")
    if customer:
        sim.store.get(customer, "customer", "customer")
    types = as_list(p, "payment_method_types")
    if types and types != ["card"]:
        raise errors.invalid("stripe_sim supports card payment methods only.", "payment_method_types")
    si = create_setup_intent(sim, customer=customer, pm=_pm(sim, p),
                             usage=as_str(p, "usage", "off_session") or "off_session",
                             description=as_str(p, "description"), md=metadata(p))
    if as_bool(p, "confirm", False) and not confirm_setup(sim, si, si["payment_method"]):
        raise _decline(sim, si)
    return sim.render(si)


@route("POST", "/v1/setup_intents/{id}/confirm")
def _confirm(sim: Sim, req: Request) -> dict[str, Any]:
    si = sim.store.get(req.args["id"], "setup_intent")
    pm = _pm(sim, req.params) or si["payment_method"]
    if not confirm_setup(sim, si, pm):
        raise _decline(sim, si)
    return sim.render(si)


@route("POST", "/v1/setup_intents/{id}/cancel")
def _cancel(sim: Sim, req: Request) -> dict[str, Any]:
    si = sim.store.get(req.args["id"], "setup_intent")
    if si["status"] in ("succeeded", "canceled"):
        raise errors.invalid(f"You cannot cancel this SetupIntent because it has a status of {si['status']}.",
                             code="setup_intent_unexpected_state")
    reason = as_str(req.params, "cancellation_reason", "requested_by_customer")
    si.update(status="canceled", cancellation_reason=reason)
    sim.emit("setup_intent.canceled", si)
    return sim.render(si)


@route("POST", "/v1/setup_intents/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    si = sim.store.get(req.args["id"], "setup_intent")
    p = req.params
    if "metadata" in p:
        si["metadata"] = metadata(p, si["metadata"])
    if "description" in p:
        si["description"] = as_str(p, "description")
    if "payment_method" in p:
        si["payment_method"] = _pm(sim, p)
        si["status"] = "requires_confirmation" if si["payment_method"] else "requires_payment_method"
    if "customer" in p:
        si["customer"] = sim.store.get(as_str(p, "customer"), "customer", "customer")["id"]
    return sim.render(si)


@route("GET", "/v1/setup_intents/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "setup_intent"))


@route("GET", "/v1/setup_intents")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    customer, pm = as_str(req.params, "customer"), as_str(req.params, "payment_method")
    return paginate(sim, req.params, "setup_intent", "/v1/setup_intents", [
        (lambda o: o["customer"] == customer) if customer else None,
        (lambda o: o["payment_method"] == pm) if pm else None,
    ])


RENDERERS["setup_intent"] = lambda sim, o: dict(o)
