"""Invoice items: one-off charges (or credits) that wait for an invoice, or sit on a draft.

An item created with ``invoice`` joins that draft at once. Without it the item is
*pending* and the customer's next invoice pulls it in: a one-off invoice created with
``pending_invoice_items_behavior=include``, or any subscription invoice (first or
renewal), as Stripe does. An item created with ``subscription`` waits for that
subscription's invoice only. Once its invoice is finalized the item is frozen.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate, range_pred
from ..money import fmt
from ..params import as_bool, as_dict, as_int, as_list, as_str, metadata
from ..routing import Request, route
from . import invoices as inv_mod
from . import tax_rates


def _pricing(sim: Sim, p: dict[str, Any], currency: str | None) -> tuple[dict[str, Any] | None, int, str]:
    """(price or None, unit amount, currency) from ``pricing[price]``, ``price_data``, ``unit_amount_decimal``
    or ``amount``."""
    price_id = as_str(as_dict(p, "pricing"), "price")
    if price_id:
        price = sim.store.get(price_id, "price", "pricing[price]")
        if price["unit_amount"] is None:
            raise errors.invalid("This price has no unit_amount.", "pricing[price]")
        return price, int(price["unit_amount"]), price["currency"]
    pdata = as_dict(p, "price_data")
    if pdata:
        from .catalog import create_price

        price = create_price(sim, dict(pdata))
        return price, int(price["unit_amount"] or 0), price["currency"]
    if not currency:
        raise errors.invalid("Missing required param: currency.", "currency")
    if p.get("unit_amount_decimal") not in (None, ""):
        return None, int(float(p["unit_amount_decimal"])), currency
    amount = as_int(p, "amount")
    if amount is None:
        raise errors.invalid("Missing required param: amount (or pricing[price], price_data, unit_amount_decimal).",
                             "amount")
    return None, amount, currency


def _draft(sim: Sim, inv_id: str, customer: str, param: str = "invoice") -> dict[str, Any]:
    inv = sim.store.get(inv_id, "invoice", param)
    if inv["customer"] != customer:
        raise errors.invalid("The invoice belongs to another customer.", param)
    if inv["status"] != "draft":
        raise errors.invalid(f"You can only add invoice items to draft invoices; {inv_id} is {inv['status']}.",
                             param, code="invoice_not_editable")
    return inv


def create_item(sim: Sim, p: dict[str, Any]) -> dict[str, Any]:
    cus = sim.store.get(as_str(p, "customer", required=True), "customer", "customer")
    inv = _draft(sim, as_str(p, "invoice") or "", cus["id"]) if p.get("invoice") else None
    sub = sim.store.get(as_str(p, "subscription"), "subscription", "subscription") if p.get("subscription") else None
    if sub is not None and sub["customer"] != cus["id"]:
        raise errors.invalid("The subscription belongs to another customer.", "subscription")
    want = (as_str(p, "currency") or "").lower() or (inv or sub or {}).get("currency") or cus.get("currency")
    price, unit, currency = _pricing(sim, p, want)
    qty = as_int(p, "quantity", 1) or 1
    has_unit = price is not None or p.get("unit_amount_decimal") not in (None, "")
    amount = unit * qty if has_unit else unit
    if not has_unit:
        qty = 1
    for holder in (inv, sub):
        if holder is not None and holder["currency"] != currency:
            raise errors.invalid(f"The currency {currency} does not match {holder['id']}'s {holder['currency']}.",
                                 "currency")
    now = sim.now(cus.get("test_clock"))
    period = as_dict(p, "period")
    rates = tax_rates.resolve_rates(sim, as_list(p, "tax_rates"), "tax_rates")
    name = sim.store.get(price["product"])["name"] if price else None
    item = sim.new("ii", "invoiceitem", cus.get("test_clock"), {
        "amount": amount, "currency": currency, "customer": cus["id"], "customer_account": None, "date": now,
        "description": as_str(p, "description") or name, "discountable": as_bool(p, "discountable", amount > 0),
        "discounts": [], "invoice": None, "metadata": metadata(p), "net_amount": amount,
        "parent": {"subscription_details": {"subscription": sub["id"], "subscription_item": None},
                   "type": "subscription_details"} if sub else None,
        "period": {"end": as_int(period, "end", now), "start": as_int(period, "start", now)},
        "pricing": {"price_details": {"price": price["id"], "product": price["product"]} if price else None,
                    "type": "price_details", "unit_amount_decimal": str(unit) if has_unit else str(amount)},
        "proration": False, "quantity": qty, "quantity_decimal": str(qty), "tax_rates": rates,
        "test_clock": cus.get("test_clock")})
    item.pop("created")  # an invoice item's time is ``date``
    if cus.get("currency") is None:
        cus["currency"] = currency
    sim.emit("invoiceitem.created", item)
    if inv is not None:
        add_to_draft(sim, inv, [item])
    return item


def to_line(sim: Sim, item: dict[str, Any]) -> dict[str, Any]:
    """The invoice line an item becomes (``parent.type = invoice_item_details``)."""
    pd = item["pricing"]["price_details"]
    price = sim.store.get(pd["price"]) if pd else None
    unit = int(float(item["pricing"]["unit_amount_decimal"] or 0))
    desc = item["description"] or (f"{item['quantity']} × {fmt(unit, item['currency'])}")
    sub = (item["parent"] or {}).get("subscription_details", {}).get("subscription") if item["parent"] else None
    ln = inv_mod.line(sim, amount=int(item["amount"]), currency=item["currency"], description=desc, price=price,
                      quantity=int(item["quantity"]), start=int(item["period"]["start"]),
                      end=int(item["period"]["end"]), sub=sub, si=None, proration=bool(item["proration"]))
    ln["discountable"] = bool(item["discountable"])
    ln["pricing"]["unit_amount_decimal"] = item["pricing"]["unit_amount_decimal"]
    ln["parent"] = {"invoice_item_details": {"invoice_item": item["id"], "proration": bool(item["proration"]),
                                             "proration_details": {"credited_items": None}, "subscription": sub},
                    "subscription_item_details": None, "type": "invoice_item_details"}
    ln["metadata"] = dict(item["metadata"])
    return ln


def pending(sim: Sim, customer: str, currency: str, sub: str | None) -> list[dict[str, Any]]:
    """Pending items an invoice for ``customer`` (of ``sub``, if any) takes, oldest first."""
    def wanted(o: dict[str, Any]) -> bool:
        owner = ((o["parent"] or {}).get("subscription_details") or {}).get("subscription")
        return (o["customer"] == customer and o["invoice"] is None and o["currency"] == currency
                and owner in (None, sub))
    return list(reversed(list(sim.store.iter_newest("invoiceitem", wanted))))


def pending_lines(sim: Sim, customer: str, currency: str, sub: str | None) -> list[dict[str, Any]]:
    """Lines for a preview (``invoice.upcoming``, create_preview): nothing is claimed."""
    return [to_line(sim, i) for i in pending(sim, customer, currency, sub)]


def claim(sim: Sim, inv: dict[str, Any]) -> None:
    """After an invoice made from pending lines exists: its items point at it."""
    for ln in inv["lines"]["data"]:
        iid = (ln["parent"].get("invoice_item_details") or {}).get("invoice_item")
        item = sim.store.find(iid)
        if item is not None:
            item["invoice"] = inv["id"]


def refresh(sim: Sim, inv: dict[str, Any]) -> None:
    """Recompute a draft's totals after its lines changed; ``invoice.updated`` when they did."""
    before = sim.render(inv)
    sub = sim.store.find(inv_mod.sub_of(inv))
    sums = inv_mod.totals(sim, sub, inv["lines"]["data"], inv.get("default_tax_rates") or [])
    inv.update(sums)
    due = max(0, int(inv["total"]))
    inv.update(amount_due=due, amount_remaining=due)
    sim.emit_updated("invoice.updated", inv, before)


def add_to_draft(sim: Sim, inv: dict[str, Any], items: list[dict[str, Any]]) -> None:
    for item in items:
        ln = to_line(sim, item)
        ln["invoice"] = inv["id"]
        inv["lines"]["data"].append(ln)
        item["invoice"] = inv["id"]
    refresh(sim, inv)


def _editable(sim: Sim, item: dict[str, Any]) -> dict[str, Any] | None:
    """The draft the item sits on (None while pending); 400 once its invoice is finalized."""
    inv = sim.store.find(item["invoice"])
    if inv is not None and inv["status"] != "draft":
        raise errors.invalid(f"Invoice item {item['id']} is on a finalized invoice and cannot be changed.",
                             code="invoice_not_editable")
    return inv


def _drop_line(inv: dict[str, Any], item_id: str) -> None:
    inv["lines"]["data"] = [ln for ln in inv["lines"]["data"]
                            if (ln["parent"].get("invoice_item_details") or {}).get("invoice_item") != item_id]


@route("POST", "/v1/invoiceitems")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(create_item(sim, req.params))


@route("GET", "/v1/invoiceitems/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "invoiceitem"))


@route("POST", "/v1/invoiceitems/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    item = sim.store.get(req.args["id"], "invoiceitem")
    p = req.params
    inv = _editable(sim, item)
    if any(k in p for k in ("amount", "pricing", "price_data", "unit_amount_decimal", "quantity")):
        src = dict(p)
        if not any(k in p for k in ("amount", "pricing", "price_data", "unit_amount_decimal")):  # quantity only
            pd = item["pricing"]["price_details"]
            src.update({"pricing": {"price": pd["price"]}} if pd else
                       {"unit_amount_decimal": item["pricing"]["unit_amount_decimal"]})
        price, unit, _cur = _pricing(sim, src, item["currency"])
        per_unit = "amount" not in src
        qty = (as_int(p, "quantity", int(item["quantity"])) or 1) if per_unit else 1
        amount = unit * qty if per_unit else unit
        item.update(amount=amount, net_amount=amount, quantity=qty, quantity_decimal=str(qty))
        item["pricing"] = {"price_details": {"price": price["id"], "product": price["product"]} if price else None,
                           "type": "price_details", "unit_amount_decimal": str(unit)}
    if "description" in p:
        item["description"] = p["description"] or None
    if "discountable" in p:
        item["discountable"] = bool(as_bool(p, "discountable"))
    if "metadata" in p:
        item["metadata"] = metadata(p, item["metadata"])
    if "period" in p:
        per = as_dict(p, "period")
        item["period"] = {"end": as_int(per, "end"), "start": as_int(per, "start")}
    if "tax_rates" in p:
        item["tax_rates"] = tax_rates.resolve_rates(sim, as_list(p, "tax_rates"), "tax_rates")
    if inv is not None:
        _drop_line(inv, item["id"])
        add_to_draft(sim, inv, [item])
    return sim.render(item)


@route("DELETE", "/v1/invoiceitems/{id}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    item = sim.store.get(req.args["id"], "invoiceitem")
    if item.get("deleted"):
        raise errors.missing("invoiceitem", item["id"])
    inv = _editable(sim, item)
    if inv is not None:
        _drop_line(inv, item["id"])
        refresh(sim, inv)
    sim.emit("invoiceitem.deleted", item)
    item["deleted"] = True
    return {"id": item["id"], "object": "invoiceitem", "deleted": True}


@route("GET", "/v1/invoiceitems")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    customer, invoice, is_pending = as_str(p, "customer"), as_str(p, "invoice"), as_bool(p, "pending")
    when = range_pred({"date": p["created"]}, "date") if p.get("created") not in (None, "") else None
    return paginate(sim, {k: v for k, v in p.items() if k != "created"}, "invoiceitem", "/v1/invoiceitems", [
        when, (lambda o: o["customer"] == customer) if customer else None,
        (lambda o: o["invoice"] == invoice) if invoice else None,
        (lambda o: (o["invoice"] is None) == is_pending) if is_pending is not None else None,
    ])


def _render(sim: Sim, item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    out["tax_rates"] = tax_rates.expanded(sim, item["tax_rates"])
    return out


RENDERERS["invoiceitem"] = _render
