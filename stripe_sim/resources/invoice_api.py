"""Invoice and invoice-payment endpoints, including ``create_preview`` (the basil upcoming invoice)."""

from __future__ import annotations

from typing import Any

from ..engine import Sim
from ..errors import invalid, missing
from ..listing import paginate
from ..params import as_bool, as_dict, as_int, as_list, as_str, metadata
from ..routing import Request, route
from .invoice_items import pending_lines
from .invoices import attempt, default_pm, finalize, invoice_body, item_line, mark_paid, sub_of, void
from .payment_methods import resolve_pm


@route("GET", "/v1/invoices/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(_live(sim, req.args["id"]))


def _live(sim: Sim, iid: str) -> dict[str, Any]:
    """A deleted draft answers 404, as Stripe's does."""
    inv = sim.store.get(iid, "invoice")
    if inv.get("deleted"):
        raise missing("invoice", iid)
    return inv


@route("POST", "/v1/invoices/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    inv = _live(sim, req.args["id"])
    before = sim.render(inv)
    if "metadata" in req.params:
        inv["metadata"] = metadata(req.params, inv["metadata"])
    if "description" in req.params:
        inv["description"] = req.params["description"] or None
    sim.emit_updated("invoice.updated", inv, before)
    return sim.render(inv)


@route("GET", "/v1/invoices")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    customer, sub, status = as_str(p, "customer"), as_str(p, "subscription"), as_str(p, "status")
    return paginate(sim, p, "invoice", "/v1/invoices", [
        (lambda o: o["customer"] == customer) if customer else None,
        (lambda o: sub_of(o) == sub) if sub else None,
        (lambda o: o["status"] == status) if status else None,
    ])


@route("GET", "/v1/invoices/{id}/lines")
def _lines(sim: Sim, req: Request) -> dict[str, Any]:
    inv = _live(sim, req.args["id"])
    return dict(inv["lines"])


@route("POST", "/v1/invoices/{id}/pay")
def _pay(sim: Sim, req: Request) -> dict[str, Any]:
    inv = _live(sim, req.args["id"])
    if inv["status"] not in ("open", "draft"):
        raise invalid(f"Invoice is already {inv['status']}.", code="invoice_not_open")
    if as_bool(req.params, "paid_out_of_band", False):  # settled elsewhere: paid, no charge
        if inv["status"] == "draft":
            finalize(sim, inv)
        mark_paid(sim, inv)
        return sim.render(inv)
    ref = as_str(req.params, "payment_method")
    pm = resolve_pm(sim, ref, inv["customer"])["id"] if ref else default_pm(sim, inv)
    if not attempt(sim, inv, pm, bool(as_bool(req.params, "off_session", True))):
        from .payments import decline_error

        pi = sim.store.get(sim.store.m(inv["id"])["pi"])
        raise decline_error(sim, sim.store.get(pi["latest_charge"]), pi)
    from .subscriptions import after_invoice_paid

    after_invoice_paid(sim, inv)
    return sim.render(inv)


@route("POST", "/v1/invoices/{id}/finalize")
def _finalize(sim: Sim, req: Request) -> dict[str, Any]:
    inv = _live(sim, req.args["id"])
    if inv["status"] != "draft":
        raise invalid("This invoice is already finalized, you can't re-finalize a non-draft invoice.")
    finalize(sim, inv)
    return sim.render(inv)


@route("POST", "/v1/invoices/{id}/void")
def _void(sim: Sim, req: Request) -> dict[str, Any]:
    inv = _live(sim, req.args["id"])
    if inv["status"] != "open":
        raise invalid(f"You can only void open invoices; this one is {inv['status']}.")
    void(sim, inv)
    return sim.render(inv)


@route("POST", "/v1/invoices/{id}/mark_uncollectible")
def _uncollectible(sim: Sim, req: Request) -> dict[str, Any]:
    inv = _live(sim, req.args["id"])
    if inv["status"] != "open":
        raise invalid(f"You can only mark open invoices uncollectible; this one is {inv['status']}.")
    inv.update(status="uncollectible", next_payment_attempt=None)
    inv["status_transitions"] = dict(inv["status_transitions"], marked_uncollectible_at=sim.now(sim.clock_of(inv)))
    sim.emit("invoice.marked_uncollectible", inv)
    return sim.render(inv)


@route("GET", "/v1/invoice_payments")
def _list_payments(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    inv = as_str(p, "invoice")
    pay = p.get("payment")
    pi = pay.get("payment_intent") if isinstance(pay, dict) else None
    return paginate(sim, p, "invoice_payment", "/v1/invoice_payments", [
        (lambda o: o["invoice"] == inv) if inv else None,
        (lambda o: o["payment"].get("payment_intent") == pi) if pi else None,
    ])


@route("GET", "/v1/invoice_payments/{id}")
def _get_payment(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "invoice_payment"))


@route("POST", "/v1/invoices/create_preview")
def _preview(sim: Sim, req: Request) -> dict[str, Any]:
    """Next invoice of a subscription, optionally with proposed item changes and their prorations."""
    from .lifecycle import _items, current_period, period_after
    from .sub_update import _proration_lines

    p = req.params
    sub = sim.store.get(as_str(p, "subscription"), "subscription", "subscription") if p.get("subscription") else None
    cus = sim.store.get(sub["customer"] if sub else as_str(p, "customer", required=True), "customer", "customer")
    if sub is None:
        raise invalid("stripe_sim previews subscription invoices only: pass subscription.", "subscription")
    details = as_dict(p, "subscription_details")
    behavior = as_str(details, "proration_behavior", "create_prorations") or "create_prorations"
    now = sim.now(sim.clock_of(sub))
    at = as_int(details, "proration_date", now) or now
    prices = {si["id"]: (sim.store.get(si["price"]), int(si["quantity"])) for si in _items(sim, sub)}
    pro: list[dict[str, Any]] = []
    for spec in as_list(details, "items"):
        if not isinstance(spec, dict) or spec.get("id") not in prices:
            raise invalid("Pass subscription_details[items][i][id] of an item of this subscription.", "items")
        si = sim.store.get(spec["id"])
        old, qty = prices[si["id"]]
        new = sim.store.get(spec["price"], "price", "price") if spec.get("price") else old
        new_qty = int(spec.get("quantity") or qty)
        if behavior != "none" and (new["id"] != old["id"] or new_qty != qty):
            pro.extend(_proration_lines(sim, sub, si, old, new, qty, new_qty, at))
        prices[si["id"]] = (new, new_qty)
    start, end = current_period(sim, sub)
    if behavior == "always_invoice" and pro:
        lines, reason, period = pro, "subscription_update", (now, now)
    else:
        rec = next(iter(prices.values()))[0]["recurring"]
        nxt = period_after(end, rec, 1)
        amounts = sim.store.m(sub["id"]).get("amounts", {})
        lines = [item_line(sim, price, qty, end, nxt, sub["id"], sid, amounts.get(sid)) for sid, (price, qty)
                 in prices.items()] + list(sim.store.m(sub["id"]).get("pending_lines", [])) + pro \
            + pending_lines(sim, sub["customer"], sub["currency"], sub["id"])
        reason, period = "upcoming", (start, end)
    out: dict[str, Any] = {"id": sim.store.new_id("upcoming_in"), "object": "invoice", "created": now,
                           "livemode": False, "metadata": {}}
    out.update(invoice_body(sim, cus, sub, lines, reason, sub["currency"], period))
    out["lines"]["url"] = f"/v1/invoices/{out['id']}/lines"
    return out


