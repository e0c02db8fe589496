"""Promotion codes: customer-facing codes for a coupon, and the checks made when one is redeemed.

A code is account-level (no test clock). ``active`` is rendered: the stored
flag, a coupon that is still valid, not past ``expires_at`` and redemptions
left, so a listing with ``active=true`` shows only codes a reader could use.
Redemption is refused with Stripe's wording when the code is inactive or
expired, restricted to another customer, first-time-only and the customer
has paid before, or below ``restrictions.minimum_amount``.
"""

from __future__ import annotations

import re
from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..money import fmt
from ..params import as_bool, as_dict, as_int, as_str, metadata
from ..routing import Request, route
from .coupons import is_valid

_CODE = re.compile(r"^[A-Za-z0-9-]{1,500}$")


def _restrictions(p: dict[str, Any]) -> dict[str, Any]:
    r = as_dict(p, "restrictions")
    minimum = as_int(r, "minimum_amount")
    currency = (as_str(r, "minimum_amount_currency") or "").lower() or None
    if minimum is not None and currency is None:
        raise errors.invalid("You must specify minimum_amount_currency when passing minimum_amount.",
                             "restrictions[minimum_amount_currency]")
    return {"first_time_transaction": bool(as_bool(r, "first_time_transaction", False)),
            "minimum_amount": minimum, "minimum_amount_currency": currency if minimum is not None else None}


def _taken(sim: Sim, code: str, customer: str | None) -> bool:
    """Codes are unique regardless of case among active codes (per customer for restricted ones)."""
    low = code.lower()
    return any(o["code"].lower() == low and o.get("customer") == customer and _active(sim, o)
               for o in sim.store.iter_newest("promotion_code"))


def create_promotion_code(sim: Sim, p: dict[str, Any]) -> dict[str, Any]:
    promo = as_dict(p, "promotion")
    if not promo:
        raise errors.invalid("Missing required param: promotion.", "promotion")
    if promo.get("type") != "coupon":
        raise errors.invalid("Invalid promotion[type]: must be coupon", "promotion[type]")
    coupon = sim.store.find(as_str(promo, "coupon", required=True))
    if coupon is None or coupon.get("object") != "coupon" or coupon.get("deleted"):
        raise errors.missing("coupon", str(promo.get("coupon")), "promotion[coupon]")
    customer = as_str(p, "customer")
    if customer:
        sim.store.get(customer, "customer", "customer")
    code = as_str(p, "code")
    if code is not None and not _CODE.match(code):
        raise errors.invalid("Invalid code: use letters, digits and dashes only.", "code")
    if code is not None and _taken(sim, code, customer):
        raise errors.invalid(f"A promotion code with code '{code}' already exists.", "code",
                             code="resource_already_exists")
    while code is None or _taken(sim, code, customer):
        code = sim.store.new_id("x", 8)[2:].upper()
    expires_at = as_int(p, "expires_at")
    if expires_at is not None and expires_at <= sim.now():
        raise errors.invalid("Invalid expires_at: must be in the future.", "expires_at")
    max_red = as_int(p, "max_redemptions")
    if max_red is not None and max_red < 1:
        raise errors.invalid("Invalid max_redemptions: must be at least 1.", "max_redemptions")
    obj = sim.new("promo", "promotion_code", None, {
        "active": as_bool(p, "active", True), "code": code, "customer": customer, "customer_account": None,
        "expires_at": expires_at, "max_redemptions": max_red, "metadata": metadata(p),
        "promotion": {"coupon": coupon["id"], "type": "coupon"}, "restrictions": _restrictions(p),
        "times_redeemed": 0})
    sim.emit("promotion_code.created", obj)
    return obj


def _active(sim: Sim, promo: dict[str, Any], now: int | None = None) -> bool:
    now = sim.now() if now is None else now
    coupon = sim.store.get(promo["promotion"]["coupon"])
    return bool(promo["active"]) and is_valid(sim, coupon, now) \
        and (promo["expires_at"] is None or int(promo["expires_at"]) > now) \
        and (promo["max_redemptions"] is None or int(promo["times_redeemed"]) < int(promo["max_redemptions"]))


def _render(sim: Sim, promo: dict[str, Any]) -> dict[str, Any]:
    out = dict(promo)
    out["active"] = _active(sim, promo)
    return out


RENDERERS["promotion_code"] = _render


def has_paid_before(sim: Sim, customer: str | None) -> bool:
    """Stripe's "first-time transaction": no successful payment and no paid invoice yet."""
    if not customer:
        return False
    if any(True for _ in sim.store.iter_newest("charge", lambda c: c["customer"] == customer
                                               and c["status"] == "succeeded")):
        return True
    return any(True for _ in sim.store.iter_newest("invoice", lambda i: i["customer"] == customer
                                                   and i["status"] == "paid" and int(i["amount_paid"]) > 0))


def redeemable_promo(sim: Sim, ref: Any, param: str, *, customer: str | None, amount: int | None,
                     currency: str, now: int) -> dict[str, Any]:
    """The promotion code behind ``discounts[i][promotion_code]`` (an id), refused as Stripe refuses it."""
    promo = sim.store.find(ref)
    if promo is None or promo.get("object") != "promotion_code":
        raise errors.missing("promotion_code", str(ref), param)
    check_promo(sim, promo, param, customer=customer, amount=amount, currency=currency, now=now)
    return promo


def check_promo(sim: Sim, promo: dict[str, Any], param: str, *, customer: str | None, amount: int | None,
                currency: str, now: int) -> None:
    if not _active(sim, promo, now):
        raise errors.invalid(f"This promotion code ({promo['code']}) is inactive or has expired.", param)
    if promo["customer"] and promo["customer"] != customer:
        raise errors.invalid(f"This promotion code ({promo['code']}) cannot be redeemed by this customer.", param)
    r = promo["restrictions"]
    if r["first_time_transaction"] and has_paid_before(sim, customer):
        raise errors.invalid("This promotion code cannot be redeemed because the associated customer has prior "
                             "transactions.", param)
    short = currency != r["minimum_amount_currency"] or (amount or 0) < int(r["minimum_amount"] or 0)
    if r["minimum_amount"] is not None and amount is not None and short:
        raise errors.invalid(f"This promotion code requires a minimum of "
                             f"{fmt(int(r['minimum_amount']), r['minimum_amount_currency'])}.", param)


def by_code(sim: Sim, code: str) -> dict[str, Any] | None:
    """What a reader types on the Checkout page, matched regardless of case (newest active first)."""
    low = code.strip().lower()
    for promo in sim.store.iter_newest("promotion_code", lambda o: o["code"].lower() == low):
        return promo
    return None


def redeem(promo: dict[str, Any] | None) -> None:
    if promo is not None:
        promo["times_redeemed"] = int(promo["times_redeemed"]) + 1


@route("POST", "/v1/promotion_codes")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(create_promotion_code(sim, req.params))


@route("GET", "/v1/promotion_codes/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "promotion_code"))


@route("POST", "/v1/promotion_codes/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    """``active``, ``metadata`` and per-currency restrictions are all that change after creation."""
    promo = sim.store.get(req.args["id"], "promotion_code")
    p = req.params
    before = sim.render(promo)
    if "active" in p:
        if as_bool(p, "active") and not promo["active"] and _taken(sim, promo["code"], promo["customer"]):
            raise errors.invalid(f"Another active promotion code uses '{promo['code']}'.", "active")
        promo["active"] = bool(as_bool(p, "active"))
    if "metadata" in p:
        promo["metadata"] = metadata(p, promo["metadata"])
    sim.emit_updated("promotion_code.updated", promo, before)
    return sim.render(promo)


@route("GET", "/v1/promotion_codes")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    active = as_bool(p, "active")
    code, coupon, customer = as_str(p, "code"), as_str(p, "coupon"), as_str(p, "customer")
    return paginate(sim, p, "promotion_code", "/v1/promotion_codes", [
        (lambda o: _active(sim, o) == active) if active is not None else None,
        (lambda o: o["code"].lower() == code.lower()) if code else None,
        (lambda o: o["promotion"]["coupon"] == coupon) if coupon else None,
        (lambda o: o["customer"] == customer) if customer else None,
    ])
