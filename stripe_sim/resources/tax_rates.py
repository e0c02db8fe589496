"""Tax rates (manual tax) and the arithmetic that applies them to invoice lines.

A rate is account-level and immutable in its numbers once created (Stripe only lets
``active``, names, jurisdiction and metadata change), so an invoice computed today
and re-rendered later shows the same tax. Exclusive rates add tax on top of a line's
discounted amount; inclusive rates carve it out of the amount already charged.
Each line's rates are the invoice item's or subscription item's own, else the
invoice's (or subscription's) ``default_tax_rates`` -- Stripe's precedence.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..params import as_bool, as_str, metadata
from ..routing import Request, route

_TYPES = ("amusement_tax", "communications_tax", "gst", "hst", "igst", "jct", "lease_tax", "pst", "qst",
          "retail_delivery_fee", "rst", "sales_tax", "service_tax", "vat")


def _percentage(p: dict[str, Any]) -> float:
    raw = p.get("percentage")
    if raw in (None, ""):
        raise errors.invalid("Missing required param: percentage.", "percentage")
    try:
        pct = float(raw)
    except (TypeError, ValueError):
        raise errors.invalid(f"Invalid decimal: {raw}", "percentage") from None
    if not 0 <= pct <= 100:
        raise errors.invalid("percentage must be between 0 and 100.", "percentage")
    return pct


@route("POST", "/v1/tax_rates")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    inclusive = as_bool(p, "inclusive")
    if inclusive is None:
        raise errors.invalid("Missing required param: inclusive.", "inclusive")
    tax_type = as_str(p, "tax_type")
    if tax_type is not None and tax_type not in _TYPES:
        raise errors.invalid(f"Invalid tax_type: {tax_type}", "tax_type")
    pct = _percentage(p)
    country = as_str(p, "country")
    rate = sim.new("txr", "tax_rate", None, {
        "active": as_bool(p, "active", True), "country": country, "description": as_str(p, "description"),
        "display_name": as_str(p, "display_name", required=True), "effective_percentage": pct,
        "flat_amount": None, "inclusive": inclusive, "jurisdiction": as_str(p, "jurisdiction"),
        "jurisdiction_level": None, "metadata": metadata(p), "percentage": pct, "rate_type": "percentage",
        "state": as_str(p, "state"), "tax_type": tax_type})
    sim.emit("tax_rate.created", rate)
    return sim.render(rate)


@route("GET", "/v1/tax_rates/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "tax_rate"))


@route("POST", "/v1/tax_rates/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    rate = sim.store.get(req.args["id"], "tax_rate")
    p = req.params
    before = sim.render(rate)
    if "active" in p:
        rate["active"] = bool(as_bool(p, "active"))
    for key in ("country", "description", "display_name", "jurisdiction", "state", "tax_type"):
        if key in p:
            if key == "display_name" and not p[key]:
                raise errors.invalid("display_name cannot be blank.", key)
            if key == "tax_type" and p[key] and p[key] not in _TYPES:
                raise errors.invalid(f"Invalid tax_type: {p[key]}", key)
            rate[key] = p[key] or None
    if "metadata" in p:
        rate["metadata"] = metadata(p, rate["metadata"])
    sim.emit_updated("tax_rate.updated", rate, before)
    return sim.render(rate)


@route("GET", "/v1/tax_rates")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    active, inclusive = as_bool(p, "active"), as_bool(p, "inclusive")
    return paginate(sim, p, "tax_rate", "/v1/tax_rates", [
        (lambda o: o["active"] == active) if active is not None else None,
        (lambda o: o["inclusive"] == inclusive) if inclusive is not None else None,
    ])


RENDERERS["tax_rate"] = lambda sim, o: dict(o)


def resolve_rates(sim: Sim, ids: list[Any], param: str) -> list[str]:
    """Validate ``tax_rates[]`` / ``default_tax_rates[]``: existing, active rates (Stripe refuses archived ones)."""
    out = []
    for i, rid in enumerate(ids):
        rate = sim.store.get(rid, "tax_rate", f"{param}[{i}]")
        if not rate["active"]:
            raise errors.invalid(f"Tax rate {rid} is archived and cannot be applied.", f"{param}[{i}]")
        out.append(rate["id"])
    return out


def expanded(sim: Sim, ids: list[str]) -> list[dict[str, Any]]:
    """Invoice items, invoices and subscriptions carry their rates as full objects."""
    return [dict(sim.store.get(r)) for r in ids]


def _portion(amount: int, pct: float) -> int:
    return int((Decimal(amount) * Decimal(str(pct)) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _inclusive_part(amount: int, pct: float) -> int:
    """Tax hidden in an amount that already includes it: amount - amount / (1 + pct)."""
    net = (Decimal(amount) * 100 / (100 + Decimal(str(pct)))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return amount - int(net)


def apply(sim: Sim, lines: list[dict[str, Any]], rates_by_line: list[list[str]]) -> tuple[int, int, list[dict[str, Any]]]:
    """Set each line's ``taxes``; return (inclusive tax, exclusive tax, the invoice's ``total_taxes``).

    Tax is on what is left after the line's discounts. Several inclusive rates on one line
    split the hidden tax by their percentages.
    """
    inclusive_sum = exclusive_sum = 0
    totals: dict[str, dict[str, Any]] = {}
    for ln, ids in zip(lines, rates_by_line, strict=True):
        ln["taxes"] = []
        if not ids:
            continue
        base = int(ln["amount"]) - sum(int(d["amount"]) for d in ln.get("discount_amounts") or [])
        rates = [sim.store.get(r) for r in ids]
        incl = [r for r in rates if r["inclusive"]]
        hidden = _inclusive_part(base, sum(float(r["percentage"]) for r in incl)) if incl else 0
        net = base - hidden
        left = hidden
        for rate in rates:
            if rate["inclusive"]:
                pct_all = sum(float(r["percentage"]) for r in incl)
                share = left if rate is incl[-1] else (
                    int(hidden * float(rate["percentage"]) / pct_all) if pct_all else 0)
                left -= share
                amount, behavior = share, "inclusive"
                inclusive_sum += amount
            else:
                amount, behavior = _portion(net, float(rate["percentage"])), "exclusive"
                exclusive_sum += amount
            row = {"amount": amount, "tax_behavior": behavior, "tax_rate_details": {"tax_rate": rate["id"]},
                   "taxability_reason": "standard_rated", "taxable_amount": net, "type": "tax_rate_details"}
            ln["taxes"].append(row)
            agg = totals.setdefault(rate["id"], dict(row, amount=0, taxable_amount=0))
            agg["amount"] += amount
            agg["taxable_amount"] += net
    return inclusive_sum, exclusive_sum, list(totals.values())


def line_rates(sim: Sim, ln: dict[str, Any], defaults: list[str]) -> list[str]:
    """The line's own rates (its invoice item's or subscription item's), else the defaults."""
    parent = ln.get("parent") or {}
    src = sim.store.find((parent.get("invoice_item_details") or {}).get("invoice_item")) \
        or sim.store.find((parent.get("subscription_item_details") or {}).get("subscription_item"))
    own = list((src or {}).get("tax_rates") or [])
    return own or list(defaults)
