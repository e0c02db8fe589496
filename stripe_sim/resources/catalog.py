"""Products and prices, including pay-what-you-want (``custom_unit_amount``)."""

from __future__ import annotations

from typing import Any

from ..engine import RENDERERS, Sim
from ..errors import invalid
from ..listing import paginate
from ..params import as_bool, as_dict, as_int, as_list, as_str, metadata
from ..routing import Request, route


def product_body(params: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "active": as_bool(params, "active", True), "default_price": None,
        "description": as_str(params, "description"), "images": as_list(params, "images"),
        "marketing_features": as_list(params, "marketing_features"), "metadata": metadata(params),
        "name": as_str(params, "name", required=True), "package_dimensions": None,
        "shippable": as_bool(params, "shippable"), "statement_descriptor": as_str(params, "statement_descriptor"),
        "tax_code": as_str(params, "tax_code"), "type": "service", "unit_label": as_str(params, "unit_label"),
        "updated": now, "url": as_str(params, "url"),
    }


def create_product(sim: Sim, params: dict[str, Any]) -> dict[str, Any]:
    prod = sim.new("prod", "product", None, product_body(params, sim.now()))
    sim.emit("product.created", prod)
    dpd = as_dict(params, "default_price_data")
    if dpd:
        price = create_price(sim, dict(dpd, product=prod["id"]))
        prod["default_price"] = price["id"]
    return prod


@route("POST", "/v1/products")
def _create_product(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(create_product(sim, req.params))


@route("GET", "/v1/products/{id}")
def _get_product(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "product"))


@route("POST", "/v1/products/{id}")
def _update_product(sim: Sim, req: Request) -> dict[str, Any]:
    prod = sim.store.get(req.args["id"], "product")
    before = sim.render(prod)
    p = req.params
    for f in ("name", "description", "statement_descriptor", "unit_label", "url", "default_price", "tax_code"):
        if f in p:
            prod[f] = p[f] or None
    if "active" in p:
        prod["active"] = as_bool(p, "active")
    if "metadata" in p:
        prod["metadata"] = metadata(p, prod["metadata"])
    prod["updated"] = sim.now()
    sim.emit_updated("product.updated", prod, before)
    return sim.render(prod)


@route("DELETE", "/v1/products/{id}")
def _delete_product(sim: Sim, req: Request) -> dict[str, Any]:
    prod = sim.store.get(req.args["id"], "product")
    sim.emit("product.deleted", prod)
    prod["deleted"] = True
    return {"id": prod["id"], "object": "product", "deleted": True}


@route("GET", "/v1/products")
def _list_products(sim: Sim, req: Request) -> dict[str, Any]:
    active = as_bool(req.params, "active")
    ids = set(as_list(req.params, "ids"))
    return paginate(sim, req.params, "product", "/v1/products", [
        (lambda o: o["active"] == active) if active is not None else None,
        (lambda o: o["id"] in ids) if ids else None,
    ])


def _recurring(raw: dict[str, Any]) -> dict[str, Any] | None:
    if not raw:
        return None
    interval = raw.get("interval")
    if interval not in ("day", "week", "month", "year"):
        raise invalid("Invalid recurring[interval]: must be one of day, week, month, or year", "recurring[interval]")
    return {"interval": interval, "interval_count": int(raw.get("interval_count") or 1), "meter": None,
            "trial_period_days": int(raw["trial_period_days"]) if raw.get("trial_period_days") else None,
            "usage_type": raw.get("usage_type") or "licensed"}


def create_price(sim: Sim, params: dict[str, Any]) -> dict[str, Any]:
    """Price with ``unit_amount`` or ``custom_unit_amount[enabled]=true``; ``product_data`` inline."""
    product = as_str(params, "product")
    pdata = as_dict(params, "product_data")
    if not product and pdata:
        product = create_product(sim, pdata)["id"]
    if not product:
        raise invalid("Missing required param: product.", "product")
    sim.store.get(product, "product", "product")
    currency = (as_str(params, "currency", required=True) or "").lower()
    cua = as_dict(params, "custom_unit_amount")
    unit_amount = as_int(params, "unit_amount")
    if "unit_amount_decimal" in params and unit_amount is None:
        unit_amount = int(float(params["unit_amount_decimal"]))
    custom = None
    if cua and str(cua.get("enabled", "")).lower() == "true":
        custom = {"maximum": as_int(cua, "maximum"), "minimum": as_int(cua, "minimum"), "preset": as_int(cua, "preset")}
        unit_amount = None
    elif unit_amount is None:
        raise invalid("Missing required param: unit_amount.", "unit_amount")
    recurring = _recurring(as_dict(params, "recurring"))
    price = sim.new("price", "price", None, {
        "active": as_bool(params, "active", True), "billing_scheme": "per_unit", "currency": currency,
        "custom_unit_amount": custom, "lookup_key": as_str(params, "lookup_key"), "metadata": metadata(params),
        "nickname": as_str(params, "nickname"), "product": product, "recurring": recurring,
        "tax_behavior": as_str(params, "tax_behavior", "unspecified"), "tiers_mode": None,
        "transform_quantity": None, "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount, "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    })
    sim.emit("price.created", price)
    return price


@route("POST", "/v1/prices")
def _create_price(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(create_price(sim, req.params))


@route("GET", "/v1/prices/{id}")
def _get_price(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "price"))


@route("POST", "/v1/prices/{id}")
def _update_price(sim: Sim, req: Request) -> dict[str, Any]:
    price = sim.store.get(req.args["id"], "price")
    before = sim.render(price)
    p = req.params
    for f in ("nickname", "lookup_key", "tax_behavior"):
        if f in p:
            price[f] = p[f] or None
    if "active" in p:
        price["active"] = as_bool(p, "active")
    if "metadata" in p:
        price["metadata"] = metadata(p, price["metadata"])
    sim.emit_updated("price.updated", price, before)
    return sim.render(price)


@route("GET", "/v1/prices")
def _list_prices(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    active = as_bool(p, "active")
    product = as_str(p, "product")
    ptype = as_str(p, "type")
    keys = set(as_list(p, "lookup_keys"))
    currency = as_str(p, "currency")
    return paginate(sim, p, "price", "/v1/prices", [
        (lambda o: o["active"] == active) if active is not None else None,
        (lambda o: o["product"] == product) if product else None,
        (lambda o: o["type"] == ptype) if ptype else None,
        (lambda o: o["lookup_key"] in keys) if keys else None,
        (lambda o: o["currency"] == currency) if currency else None,
    ])


def plan_of(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` view Stripe still embeds next to ``price`` in items."""
    rec = price.get("recurring") or {}
    return {
        "id": price["id"], "object": "plan", "active": price["active"], "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"], "billing_scheme": "per_unit", "created": price["created"],
        "currency": price["currency"], "interval": rec.get("interval"), "interval_count": rec.get("interval_count"),
        "livemode": False, "metadata": price["metadata"], "meter": None, "nickname": price["nickname"],
        "product": price["product"], "tiers_mode": None, "transform_usage": None,
        "trial_period_days": rec.get("trial_period_days"), "usage_type": rec.get("usage_type", "licensed"),
    }


def _render_deleted(kind: str) -> Any:
    def render(sim: Sim, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("deleted"):
            return {"id": obj["id"], "object": kind, "deleted": True}
        return dict(obj)
    return render


RENDERERS["product"] = _render_deleted("product")
