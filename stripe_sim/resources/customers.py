"""Customers: create/retrieve/update/delete/list (search lives in search_api.py)."""

from __future__ import annotations

from typing import Any

from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..params import as_dict, as_int, as_list, as_str, metadata
from ..routing import Request, route

_FIELDS = ("address", "description", "email", "name", "phone", "shipping", "preferred_locales", "tax_exempt")


def customer_body(sim: Sim, params: dict[str, Any], clock: str | None) -> dict[str, Any]:
    return {
        "address": params.get("address") or None, "balance": as_int(params, "balance", 0),
        "currency": None, "default_source": None, "delinquent": False,
        "description": as_str(params, "description"), "discount": None, "email": as_str(params, "email"),
        "invoice_prefix": sim.store.new_id("x", 8)[2:].upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                             "rendering_options": None},
        "metadata": metadata(params), "name": as_str(params, "name"), "next_invoice_sequence": 1,
        "phone": as_str(params, "phone"), "preferred_locales": as_list(params, "preferred_locales"),
        "shipping": params.get("shipping") or None, "tax_exempt": as_str(params, "tax_exempt", "none"),
        "test_clock": clock,
    }


def create_customer(sim: Sim, params: dict[str, Any]) -> dict[str, Any]:
    clock = as_str(params, "test_clock")
    if clock:
        sim.store.get(clock, "test_helpers.test_clock", "test_clock")
    cus = sim.new("cus", "customer", clock, customer_body(sim, params, clock))
    sim.emit("customer.created", cus)
    pm_ref = as_str(params, "payment_method")
    if pm_ref:
        from .payment_methods import resolve_pm

        pm = resolve_pm(sim, pm_ref, cus["id"])
        default = as_dict(params, "invoice_settings").get("default_payment_method")
        if default:
            before = sim.render(cus)
            cus["invoice_settings"]["default_payment_method"] = pm["id"]
            sim.emit_updated("customer.updated", cus, before)
    return cus


@route("POST", "/v1/customers")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(create_customer(sim, req.params))


def get_customer(sim: Sim, cid: str, param: str = "id") -> dict[str, Any]:
    cus = sim.store.get(cid, "customer", param)
    return cus


@route("GET", "/v1/customers/{id}")
def _retrieve(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(get_customer(sim, req.args["id"]))


def update_customer(sim: Sim, cus: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    before = sim.render(cus)
    for f in _FIELDS:
        if f in params:
            cus[f] = params[f] or None
    if "metadata" in params:
        cus["metadata"] = metadata(params, cus["metadata"])
    settings = as_dict(params, "invoice_settings")
    if "default_payment_method" in settings:
        ref = settings["default_payment_method"] or None
        if ref:
            from .payment_methods import resolve_pm

            ref = resolve_pm(sim, ref, cus["id"])["id"]
        cus["invoice_settings"] = dict(cus["invoice_settings"], default_payment_method=ref)
    if "balance" in params:
        cus["balance"] = as_int(params, "balance", 0)
    sim.emit_updated("customer.updated", cus, before)
    return cus


@route("POST", "/v1/customers/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(update_customer(sim, get_customer(sim, req.args["id"]), req.params))


@route("DELETE", "/v1/customers/{id}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    cus = get_customer(sim, req.args["id"])
    from .subscriptions import cancel_now

    for sub in sim.store.iter_newest("subscription", lambda s: s["customer"] == cus["id"]):
        if sub["status"] not in ("canceled", "incomplete_expired"):
            cancel_now(sim, sub, "cancellation_requested")
    sim.emit("customer.deleted", cus)
    cus["deleted"] = True
    return {"id": cus["id"], "object": "customer", "deleted": True}


@route("GET", "/v1/customers")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    email = as_str(p, "email")
    clock = as_str(p, "test_clock")
    return paginate(sim, p, "customer", "/v1/customers", [
        (lambda o: o.get("email") == email) if email else None,
        (lambda o: o.get("test_clock") == clock) if clock else None,
    ])


def _render(sim: Sim, obj: dict[str, Any]) -> dict[str, Any]:
    if obj.get("deleted"):
        return {"id": obj["id"], "object": "customer", "deleted": True}
    return dict(obj)


RENDERERS["customer"] = _render
