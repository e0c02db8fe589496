"""Coupons: create, retrieve, update, list, delete.

A coupon is account-level (no test clock). Deleting one hides it from the API
but keeps the object, because discounts already made from it go on working
in Stripe; ``valid`` is computed when rendered so it tracks the clock.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..params import as_int, as_str, metadata
from ..routing import Request, route

DURATIONS = ("once", "repeating", "forever")


def _percent(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise errors.invalid(f"Invalid decimal: {raw}", "percent_off") from None
    if not (Decimal(0) < value <= Decimal(100)):
        raise errors.invalid("Invalid percent_off: must be greater than 0 and at most 100.", "percent_off")
    return float(value)


def _body(sim: Sim, p: dict[str, Any]) -> dict[str, Any]:
    """Validate everything before anything is stored: a 400 must leave no trace."""
    percent = _percent(p.get("percent_off"))
    amount = as_int(p, "amount_off")
    currency = (as_str(p, "currency") or "").lower() or None
    if percent is None and amount is None:
        raise errors.invalid("You must specify either percent_off or amount_off.", "percent_off")
    if percent is not None and amount is not None:
        raise errors.invalid("You can only specify one of percent_off or amount_off.", "amount_off")
    if amount is not None:
        if amount < 1:
            raise errors.invalid("Invalid amount_off: must be at least 1.", "amount_off")
        if currency is None:
            raise errors.invalid("You must specify a currency when creating a coupon with amount_off.", "currency")
    duration = as_str(p, "duration", "once") or "once"
    if duration not in DURATIONS:
        raise errors.invalid(f"Invalid duration: must be one of {', '.join(DURATIONS)}", "duration")
    months = as_int(p, "duration_in_months")
    if duration == "repeating" and (months is None or months < 1):
        raise errors.invalid("Missing required param: duration_in_months.", "duration_in_months")
    if duration != "repeating" and months is not None:
        raise errors.invalid("duration_in_months can only be set when duration is repeating.", "duration_in_months")
    max_red = as_int(p, "max_redemptions")
    if max_red is not None and max_red < 1:
        raise errors.invalid("Invalid max_redemptions: must be at least 1.", "max_redemptions")
    redeem_by = as_int(p, "redeem_by")
    if redeem_by is not None and redeem_by <= sim.now():
        raise errors.invalid("Invalid redeem_by: must be in the future.", "redeem_by")
    return {"amount_off": amount, "currency": currency if amount is not None else None, "duration": duration,
            "duration_in_months": months, "max_redemptions": max_red, "metadata": metadata(p),
            "name": as_str(p, "name"), "percent_off": percent, "redeem_by": redeem_by, "times_redeemed": 0,
            "valid": True}


def create_coupon(sim: Sim, p: dict[str, Any]) -> dict[str, Any]:
    cid = as_str(p, "id")
    if cid is not None and sim.store.find(cid) is not None:  # deleted ones too: their discounts still point here
        raise errors.invalid("Coupon already exists.", "id", code="resource_already_exists")
    body = _body(sim, p)
    while cid is None or sim.store.find(cid) is not None:  # Stripe's generated ids: 8 characters, no prefix
        cid = sim.store.new_id("x", 8)[2:]
    coupon = sim.store.add({"id": cid, "object": "coupon", **body, "created": sim.now(), "livemode": False})
    sim.emit("coupon.created", coupon)
    return coupon


def is_valid(sim: Sim, coupon: dict[str, Any], now: int | None = None) -> bool:
    """Stripe's ``valid``: not deleted, not past redeem_by, redemptions left."""
    if coupon.get("deleted"):
        return False
    if coupon.get("redeem_by") is not None and int(coupon["redeem_by"]) <= (sim.now() if now is None else now):
        return False
    return coupon.get("max_redemptions") is None or int(coupon["times_redeemed"]) < int(coupon["max_redemptions"])


def redeemable(sim: Sim, cid: Any, param: str, currency: str, now: int) -> dict[str, Any]:
    """The coupon behind ``discounts[i][coupon]``, refused when spent or in another currency."""
    coupon = sim.store.find(cid)
    if coupon is None or coupon.get("object") != "coupon" or coupon.get("deleted"):
        raise errors.missing("coupon", str(cid), param)
    if not is_valid(sim, coupon, now):
        raise errors.invalid(f"Coupon {cid} is no longer valid.", param, code="coupon_expired")
    if coupon["amount_off"] is not None and coupon["currency"] != currency:
        raise errors.invalid(f"The coupon {cid} is in {coupon['currency']} but this is billed in {currency}; "
                             "amount_off coupons must match the currency.", param)
    return coupon


def _render(sim: Sim, coupon: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in coupon.items() if k != "deleted"}
    out["valid"] = is_valid(sim, coupon)
    return out


RENDERERS["coupon"] = _render


def _live(sim: Sim, cid: str) -> dict[str, Any]:
    coupon = sim.store.find(cid)
    if coupon is None or coupon.get("object") != "coupon" or coupon.get("deleted"):
        raise errors.missing("coupon", cid)
    return coupon


@route("POST", "/v1/coupons")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(create_coupon(sim, req.params))


@route("GET", "/v1/coupons/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(_live(sim, req.args["id"]))


@route("POST", "/v1/coupons/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    """Only name and metadata change after creation, as in Stripe."""
    coupon = _live(sim, req.args["id"])
    p = req.params
    bad = set(p) - {"name", "metadata", "expand", "currency_options"}
    if bad:
        name = sorted(bad)[0]
        raise errors.invalid(f"Received unknown parameter: {name}", name)
    before = sim.render(coupon)
    if "name" in p:
        coupon["name"] = as_str(p, "name")
    if "metadata" in p:
        coupon["metadata"] = metadata(p, coupon["metadata"])
    sim.emit_updated("coupon.updated", coupon, before)
    return sim.render(coupon)


@route("DELETE", "/v1/coupons/{id}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    coupon = _live(sim, req.args["id"])
    coupon["deleted"] = True
    sim.emit("coupon.deleted", coupon)
    return {"id": coupon["id"], "object": "coupon", "deleted": True}


@route("GET", "/v1/coupons")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    return paginate(sim, req.params, "coupon", "/v1/coupons")
