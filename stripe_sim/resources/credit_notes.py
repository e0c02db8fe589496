"""Credit notes: adjust a finalized invoice, the basis of staff refunds.

As in this API version, a credit note first lowers what is still owed on the
invoice (``pre_payment_amount``: ``amount_due``/``amount_remaining`` go down,
and an open invoice owing nothing more is paid); the excess
(``post_payment_amount``) must be split exactly into ``refund_amount`` (a new
refund of the invoice's charge), ``refunds`` (existing refunds linked),
``credit_amount`` (customer balance, a ``credit_note`` balance transaction)
and ``out_of_band_amount``. Lines credit invoice lines (their discounts pro
rata) or add custom lines; ``amount`` alone credits without lines. Voiding
reverses the invoice and balance effects; one with refunds cannot be voided.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim, list_object
from ..listing import paginate
from ..params import as_int, as_list, as_str, metadata
from ..routing import Request, route
from . import invoices as inv_mod
from .customer_balance import add_balance_txn
from .refunds import create_refund

REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


def _line(sim: Sim, inv: dict[str, Any], spec: dict[str, Any], i: int) -> dict[str, Any]:
    param = f"lines[{i}]"
    kind = spec.get("type")
    base = {"id": sim.store.new_id("cnli"), "object": "credit_note_line_item", "discount_amounts": [],
            "livemode": False, "metadata": metadata(spec) or None, "pretax_credit_amounts": [], "tax_rates": [],
            "taxes": []}
    if kind == "invoice_line_item":
        il = next((ln for ln in inv["lines"]["data"] if ln["id"] == spec.get("invoice_line_item")), None)
        if il is None:
            raise errors.missing("invoice line item", str(spec.get("invoice_line_item")),
                                 f"{param}[invoice_line_item]")
        line_qty = int(il["quantity"] or 1)
        qty = as_int(spec, "quantity", line_qty) or line_qty
        gross = as_int(spec, "amount") if spec.get("amount") not in (None, "") else int(il["amount"]) * qty // line_qty
        if gross is None or not 0 < gross <= int(il["amount"]):
            raise errors.invalid("The amount must be positive and at most the line's amount.", f"{param}[amount]")
        cuts = [{"amount": int(d["amount"]) * gross // int(il["amount"]), "discount": d["discount"]}
                for d in il.get("discount_amounts") or []]
        return dict(base, amount=gross, description=il["description"], discount_amount=sum(c["amount"] for c in cuts),
                    discount_amounts=cuts, invoice_line_item=il["id"], quantity=qty, type=kind, unit_amount=None,
                    unit_amount_decimal=None)
    if kind == "custom_line_item":
        unit = as_int(spec, "unit_amount", required=True) or 0
        qty = as_int(spec, "quantity", 1) or 1
        if unit <= 0:
            raise errors.invalid("unit_amount must be positive.", f"{param}[unit_amount]")
        return dict(base, amount=unit * qty, description=as_str(spec, "description", required=True),
                    discount_amount=0, quantity=qty, type=kind, unit_amount=unit, unit_amount_decimal=str(unit))
    raise errors.invalid("Invalid type: must be one of invoice_line_item or custom_line_item", f"{param}[type]")


def _credited(sim: Sim, inv: dict[str, Any]) -> int:
    return sum(int(c["total"]) for c in sim.store.iter_newest(
        "credit_note", lambda c: c["invoice"] == inv["id"] and c["status"] == "issued"))


Built = tuple[dict[str, Any], dict[str, Any], dict[str, int], list[dict[str, Any]]]


def build(sim: Sim, p: dict[str, Any]) -> Built:
    """Validate and compute a credit note, storing nothing: body, invoice, post-payment split, linked refunds."""
    inv = sim.store.get(as_str(p, "invoice", required=True), "invoice", "invoice")
    if inv["status"] not in ("open", "paid"):
        raise errors.invalid(f"You can only create credit notes for open or paid invoices; this one is "
                             f"{inv['status']}.", "invoice")
    lines = [_line(sim, inv, s if isinstance(s, dict) else {}, i) for i, s in enumerate(as_list(p, "lines"))]
    subtotal = sum(int(ln["amount"]) for ln in lines)
    discount = sum(int(ln["discount_amount"]) for ln in lines)
    total = subtotal - discount if lines else (as_int(p, "amount") or 0)
    if lines and as_int(p, "amount") not in (None, total):
        raise errors.invalid("The amount must equal the sum of the lines.", "amount")
    if total <= 0:
        raise errors.invalid("One of amount or lines must credit a positive amount.", "amount")
    if total > int(inv["total"]) - _credited(sim, inv):
        raise errors.invalid("The credit note total is greater than what is left to credit on the invoice.",
                             "amount")
    reason = as_str(p, "reason")
    if reason is not None and reason not in REASONS:
        raise errors.invalid(f"Invalid reason: must be one of {', '.join(REASONS)}", "reason")
    pre = min(total, int(inv["amount_remaining"])) if inv["status"] == "open" else 0
    post = total - pre
    links = [r for r in as_list(p, "refunds") if isinstance(r, dict)]
    split = {"refund": as_int(p, "refund_amount", 0) or 0, "credit": as_int(p, "credit_amount", 0) or 0,
             "oob": as_int(p, "out_of_band_amount", 0) or 0,
             "linked": sum(int(r.get("amount_refunded") or sim.store.get(r.get("refund"), "refund",
                                                                            "refunds")["amount"]) for r in links)}
    if sum(split.values()) != post:
        raise errors.invalid("The sum of refund_amount, refunds, credit_amount and out_of_band_amount must equal "
                             f"the post-payment amount ({post}).", "refund_amount")
    now = sim.now(sim.clock_of(inv))
    body = {"amount": total, "amount_shipping": 0, "currency": inv["currency"], "customer": inv["customer"],
            "customer_account": None, "customer_balance_transaction": None, "discount_amount": discount,
            "discount_amounts": [], "effective_at": as_int(p, "effective_at", now), "invoice": inv["id"],
            "lines": list_object(lines, ""), "memo": as_str(p, "memo"), "metadata": metadata(p), "number": None,
            "out_of_band_amount": split["oob"] or None, "pdf": None, "post_payment_amount": post,
            "pre_payment_amount": pre, "pretax_credit_amounts": [], "reason": reason, "refunds": [],
            "shipping_cost": None, "status": "issued", "subtotal": subtotal if lines else total,
            "subtotal_excluding_tax": subtotal if lines else total, "total": total, "total_excluding_tax": total,
            "total_taxes": [], "type": "mixed" if pre and post else ("pre_payment" if pre else "post_payment"),
            "voided_at": None}
    return body, inv, split, links


def _charge_of(sim: Sim, inv: dict[str, Any]) -> dict[str, Any]:
    pi = sim.store.find(sim.store.m(inv["id"]).get("pi"))
    ch = sim.store.find(pi["latest_charge"]) if pi else None
    if ch is None or ch["status"] != "succeeded":
        raise errors.invalid("This invoice has no successful charge to refund.", "refund_amount")
    return ch


@route("POST", "/v1/credit_notes")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    body, inv, split, links = build(sim, req.params)
    n = sum(1 for _ in sim.store.iter_newest("credit_note", lambda c: c["invoice"] == inv["id"])) + 1
    cn = sim.new("cn", "credit_note", sim.clock_of(inv), body)
    cn["number"] = f"{inv['number']}-CN-{n:02d}"
    cn["pdf"] = f"{sim.url}/credit_notes/{cn['id']}/pdf"
    cn["lines"]["url"] = f"/v1/credit_notes/{cn['id']}/lines"
    before = sim.render(inv)
    if cn["pre_payment_amount"]:
        inv["amount_due"] = int(inv["amount_due"]) - cn["pre_payment_amount"]
        inv["amount_remaining"] = int(inv["amount_remaining"]) - cn["pre_payment_amount"]
        inv["pre_payment_credit_notes_amount"] = int(inv["pre_payment_credit_notes_amount"]) + cn["pre_payment_amount"]
    inv["post_payment_credit_notes_amount"] = int(inv["post_payment_credit_notes_amount"]) + cn["post_payment_amount"]
    if split["refund"]:
        ref = create_refund(sim, _charge_of(sim, inv), split["refund"], None, {"credit_note": cn["id"]})
        cn["refunds"].append({"amount_refunded": ref["amount"], "payment_record_refund": None, "refund": ref["id"],
                              "type": "refund"})
    for link in links:
        ref = sim.store.get(link["refund"], "refund", "refunds")
        cn["refunds"].append({"amount_refunded": int(link.get("amount_refunded") or ref["amount"]),
                              "payment_record_refund": None, "refund": ref["id"], "type": "refund"})
    if split["credit"]:
        txn = add_balance_txn(sim, sim.store.get(inv["customer"]), -split["credit"], inv["currency"], "credit_note",
                              credit_note=cn["id"], invoice=inv["id"])
        cn["customer_balance_transaction"] = txn["id"]
    sim.emit("credit_note.created", cn)
    sim.emit_updated("invoice.updated", inv, before)
    if inv["status"] == "open" and int(inv["amount_remaining"]) <= 0:
        inv_mod.mark_paid(sim, inv)
    return sim.render(cn)


@route("GET", "/v1/credit_notes/preview")
def _preview(sim: Sim, req: Request) -> dict[str, Any]:
    body = build(sim, req.params)[0]
    out = {"id": sim.store.new_id("cn_preview"), "object": "credit_note", "created": sim.now(), "livemode": False}
    out.update(body)
    return out


@route("POST", "/v1/credit_notes/{id}/void")
def _void(sim: Sim, req: Request) -> dict[str, Any]:
    cn = sim.store.get(req.args["id"], "credit_note")
    if cn["status"] != "issued":
        raise errors.invalid("This credit note is already void.")
    if cn["refunds"]:
        raise errors.invalid("A credit note with refunds cannot be voided.")
    inv = sim.store.get(cn["invoice"])
    before = sim.render(inv)
    inv["pre_payment_credit_notes_amount"] = int(inv["pre_payment_credit_notes_amount"]) - cn["pre_payment_amount"]
    inv["post_payment_credit_notes_amount"] = int(inv["post_payment_credit_notes_amount"]) - cn["post_payment_amount"]
    if cn["pre_payment_amount"] and inv["status"] == "open":
        inv["amount_due"] = int(inv["amount_due"]) + cn["pre_payment_amount"]
        inv["amount_remaining"] = int(inv["amount_remaining"]) + cn["pre_payment_amount"]
    txn = sim.store.find(cn["customer_balance_transaction"])
    if txn is not None:
        add_balance_txn(sim, sim.store.get(cn["customer"]), -int(txn["amount"]), cn["currency"], "credit_note",
                        credit_note=cn["id"], invoice=inv["id"])
    cn.update(status="void", voided_at=sim.now(sim.clock_of(cn)))
    sim.emit("credit_note.voided", cn)
    sim.emit_updated("invoice.updated", inv, before)
    return sim.render(cn)


@route("POST", "/v1/credit_notes/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    cn = sim.store.get(req.args["id"], "credit_note")
    before = sim.render(cn)
    if "memo" in req.params:
        cn["memo"] = as_str(req.params, "memo")
    if "metadata" in req.params:
        cn["metadata"] = metadata(req.params, cn["metadata"])
    sim.emit_updated("credit_note.updated", cn, before)
    return sim.render(cn)


@route("GET", "/v1/credit_notes/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "credit_note"))


@route("GET", "/v1/credit_notes/{id}/lines")
def _lines(sim: Sim, req: Request) -> dict[str, Any]:
    return dict(sim.store.get(req.args["id"], "credit_note")["lines"])


@route("GET", "/v1/credit_notes")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    inv, cus = as_str(req.params, "invoice"), as_str(req.params, "customer")
    return paginate(sim, req.params, "credit_note", "/v1/credit_notes", [
        (lambda o: o["invoice"] == inv) if inv else None, (lambda o: o["customer"] == cus) if cus else None])


RENDERERS["credit_note"] = lambda sim, o: dict(o)
