"""Payment Links: a shareable URL that opens a fresh Checkout Session per visitor.

``GET {sim}/b/{plink_id}`` makes a Checkout Session from the link (mode
``subscription`` when its prices recur, else ``payment``; the link's metadata,
``subscription_data``, ``allow_promotion_codes`` carried over; ``payment_link``
set) and redirects to the sim's hosted Checkout page, so paying it emits exactly
what Checkout does. After payment the visitor lands on the link's redirect URL
or on ``/b/{id}/complete`` (the hosted confirmation). ``active`` is rendered:
the flag, and ``restrictions.completed_sessions`` not yet at its limit.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import errors
from ..engine import INCLUDABLE, RENDERERS, Sim, list_object
from ..listing import paginate
from ..params import as_bool, as_dict, as_int, as_list, as_str, metadata
from ..routing import Request, route


def _line_items(sim: Sim, raw: list[Any]) -> list[list[Any]]:
    if not raw:
        raise errors.invalid("Missing required param: line_items.", "line_items")
    out: list[list[Any]] = []
    for i, spec in enumerate(raw):
        if not isinstance(spec, dict):
            raise errors.invalid("Invalid line_items", f"line_items[{i}]")
        price = sim.store.get(as_str(spec, "price", required=True), "price", f"line_items[{i}][price]")
        if not price["active"]:
            raise errors.invalid("The price is archived.", f"line_items[{i}][price]")
        if price["unit_amount"] is None:
            raise errors.invalid("Payment Links in stripe_sim need prices with a unit_amount.",
                                 f"line_items[{i}][price]")
        adj = as_dict(spec, "adjustable_quantity")
        adjustable = {"enabled": bool(as_bool(adj, "enabled", False)), "maximum": as_int(adj, "maximum"),
                      "minimum": as_int(adj, "minimum")} if adj else None
        out.append([price["id"], as_int(spec, "quantity", 1) or 1, adjustable])
    prices = [sim.store.get(pid) for pid, _q, _a in out]
    if len({p["currency"] for p in prices}) > 1:
        raise errors.invalid("All prices on a payment link must use the same currency.", "line_items")
    if len({p["type"] for p in prices}) > 1:
        raise errors.invalid("stripe_sim links hold either recurring or one-time prices, not both.", "line_items")
    return out


def _after_completion(p: dict[str, Any]) -> dict[str, Any]:
    ac = as_dict(p, "after_completion")
    kind = as_str(ac, "type", "hosted_confirmation")
    if kind == "redirect":
        url = as_str(as_dict(ac, "redirect"), "url")
        if not url:
            raise errors.invalid("Missing required param: after_completion[redirect][url].",
                                 "after_completion[redirect][url]")
        return {"redirect": {"url": url}, "type": "redirect"}
    if kind != "hosted_confirmation":
        raise errors.invalid(f"Invalid after_completion[type]: {kind}", "after_completion[type]")
    msg = as_str(as_dict(ac, "hosted_confirmation"), "custom_message")
    return {"hosted_confirmation": {"custom_message": msg}, "type": "hosted_confirmation"}


def _restrictions(p: dict[str, Any]) -> dict[str, Any] | None:
    cs = as_dict(as_dict(p, "restrictions"), "completed_sessions")
    limit = as_int(cs, "limit")
    return {"completed_sessions": {"count": 0, "limit": limit}} if limit else None


@route("POST", "/v1/payment_links")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    items = _line_items(sim, as_list(p, "line_items"))
    first = sim.store.get(items[0][0])
    recurring = first["type"] == "recurring"
    sd, pid = as_dict(p, "subscription_data"), as_dict(p, "payment_intent_data")
    link = sim.new("plink", "payment_link", None, {
        "active": True, "after_completion": _after_completion(p),
        "allow_promotion_codes": bool(as_bool(p, "allow_promotion_codes", False)), "application": None,
        "application_fee_amount": None, "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None},
        "billing_address_collection": as_str(p, "billing_address_collection", "auto"),
        "consent_collection": None, "currency": first["currency"], "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer_creation": None if recurring else as_str(p, "customer_creation", "if_required"),
        "inactive_message": as_str(p, "inactive_message"),
        "invoice_creation": None if recurring else {"enabled": False, "invoice_data": None},
        "managed_payments": None, "metadata": metadata(p), "on_behalf_of": None,
        "payment_intent_data": None if recurring else {
            "capture_method": None, "description": as_str(pid, "description"), "metadata": metadata(pid),
            "setup_future_usage": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
            "transfer_group": None},
        "payment_method_collection": as_str(p, "payment_method_collection", "always"),
        "payment_method_options": None, "payment_method_types": None, "phone_number_collection": {"enabled": False},
        "restrictions": _restrictions(p), "shipping_address_collection": None, "shipping_options": [],
        "submit_type": as_str(p, "submit_type", "auto"),
        "subscription_data": {"description": as_str(sd, "description"), "invoice_settings": {"issuer": {
            "type": "self"}}, "metadata": metadata(sd), "trial_period_days": as_int(sd, "trial_period_days"),
            "trial_settings": None} if recurring else None,
        "tax_id_collection": {"enabled": False, "required": "never"}, "transfer_data": None, "url": None,
    }, line_items=items)
    link.pop("created")  # Stripe's payment_link has no creation time
    link["url"] = f"{sim.url}/b/{link['id']}"
    sim.emit("payment_link.created", link)
    return sim.render(link)


def completed(sim: Sim, link: dict[str, Any]) -> int:
    return sum(1 for _ in sim.store.iter_newest(
        "checkout.session", lambda c: c["payment_link"] == link["id"] and c["status"] == "complete"))


def _render(sim: Sim, link: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(link)
    r = out["restrictions"]
    if r is not None:
        r["completed_sessions"]["count"] = completed(sim, link)
        if r["completed_sessions"]["count"] >= int(r["completed_sessions"]["limit"]):
            out["active"] = False
    return out


RENDERERS["payment_link"] = _render


def _items(sim: Sim, link: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for i, (pid, qty, adjustable) in enumerate(sim.store.m(link["id"])["line_items"]):
        price = sim.store.get(pid)
        amount = int(price["unit_amount"]) * int(qty)
        rows.append({"id": f"li_{link['id'][6:22]}{i:02d}", "object": "item", "adjustable_quantity": adjustable,
                     "amount_discount": 0, "amount_subtotal": amount, "amount_tax": 0, "amount_total": amount,
                     "currency": price["currency"], "description": sim.store.get(price["product"])["name"],
                     "metadata": {}, "price": dict(price), "quantity": qty})
    return list_object(rows, f"/v1/payment_links/{link['id']}/line_items")


INCLUDABLE[("payment_link", "line_items")] = _items


@route("GET", "/v1/payment_links/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "payment_link"))


@route("GET", "/v1/payment_links/{id}/line_items")
def _get_items(sim: Sim, req: Request) -> dict[str, Any]:
    return _items(sim, sim.store.get(req.args["id"], "payment_link"))


@route("POST", "/v1/payment_links/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    link = sim.store.get(req.args["id"], "payment_link")
    p = req.params
    before = sim.render(link)
    if "active" in p:
        link["active"] = bool(as_bool(p, "active"))
    if "after_completion" in p:
        link["after_completion"] = _after_completion(p)
    if "allow_promotion_codes" in p:
        link["allow_promotion_codes"] = bool(as_bool(p, "allow_promotion_codes"))
    if "inactive_message" in p:
        link["inactive_message"] = as_str(p, "inactive_message")
    if "metadata" in p:
        link["metadata"] = metadata(p, link["metadata"])
    if "restrictions" in p:
        link["restrictions"] = _restrictions(p) if p["restrictions"] else None
    if "line_items" in p:  # quantities (and adjustability) of the existing lines, by their item id
        current = sim.store.m(link["id"])["line_items"]
        ids = [row["id"] for row in _items(sim, link)["data"]]
        for i, spec in enumerate(as_list(p, "line_items")):
            if not isinstance(spec, dict) or spec.get("id") not in ids:
                raise errors.invalid("Pass line_items[i][id] of a line of this link.", f"line_items[{i}][id]")
            row = current[ids.index(spec["id"])]
            row[1] = as_int(spec, "quantity", row[1]) or row[1]
    sim.emit_updated("payment_link.updated", link, before)
    return sim.render(link)


@route("GET", "/v1/payment_links")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    active = as_bool(req.params, "active")
    return paginate(sim, req.params, "payment_link", "/v1/payment_links", [
        (lambda o: _render(sim, o)["active"] == active) if active is not None else None])


def open_session(sim: Sim, link: dict[str, Any]) -> dict[str, Any]:
    """A visitor opened the link: a new Checkout Session carrying the link's settings."""
    from .checkout import _create as create_session

    shown = _render(sim, link)
    if not shown["active"]:
        raise errors.StripeError(410, "invalid_request_error",
                                 link["inactive_message"] or "This link is no longer active.")
    items = sim.store.m(link["id"])["line_items"]
    recurring = link["subscription_data"] is not None
    ac = link["after_completion"]
    success = ac["redirect"]["url"] if ac["type"] == "redirect" else \
        f"{sim.url}/b/{link['id']}/complete?session={{CHECKOUT_SESSION_ID}}"
    params: dict[str, Any] = {
        "mode": "subscription" if recurring else "payment", "success_url": success,
        "line_items": [{"price": pid, "quantity": str(qty)} for pid, qty, _a in items],
        "metadata": dict(link["metadata"]), "payment_method_collection": link["payment_method_collection"]}
    if link["allow_promotion_codes"]:
        params["allow_promotion_codes"] = "true"
    if recurring:
        sd = link["subscription_data"]
        params["subscription_data"] = {k: v for k, v in (
            ("description", sd["description"]), ("metadata", dict(sd["metadata"])),
            ("trial_period_days", str(sd["trial_period_days"]) if sd["trial_period_days"] else None)) if v}
    else:
        params["customer_creation"] = link["customer_creation"]
        pid = link["payment_intent_data"] or {}
        params["payment_intent_data"] = {k: v for k, v in (("description", pid.get("description")),
                                                           ("metadata", pid.get("metadata"))) if v}
    rendered = create_session(sim, Request("POST", "/v1/checkout/sessions", params))
    cs = sim.store.get(rendered["id"])
    cs["payment_link"] = link["id"]
    return cs
