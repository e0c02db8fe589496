"""Discounts: a coupon applied to a subscription, and what it takes off invoices.

Stripe keeps the coupon out of the discount (``source.coupon`` is an id unless
expanded), applies discounts in order to what the previous ones left, never to
proration lines (``discountable: false``), and drops a discount at the first
renewal it no longer covers, before that renewal is invoiced. ``once`` covers
the first invoice with something to discount; it is dropped at the renewal
after it, the way a repeating one is dropped at its ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..params import as_list
from ..periods import add_months
from .coupons import redeemable
from .promotion_codes import redeem as redeem_promo
from .promotion_codes import redeemable_promo

MAX_DISCOUNTS = 20


@dataclass
class Redeem:
    """A coupon to redeem, and the promotion code it was reached through (if any)."""

    coupon: dict[str, Any]
    promo: dict[str, Any] | None = None


def requested_coupons(sim: Sim, p: dict[str, Any], currency: str, now: int, *, keep: list[str] | None = None,
                      limit: int = MAX_DISCOUNTS, customer: str | None = None,
                      amount: int | None = None) -> list[str | Redeem]:
    """Validate ``discounts[i][coupon|promotion_code|discount]``: kept discount ids and redemptions, in order.

    ``keep`` is the subscription's current discounts, the only ones ``discounts[i][discount]`` may name;
    ``customer`` and ``amount`` (before discounts) are what a promotion code's restrictions are checked against.
    """
    specs = as_list(p, "discounts")
    if len(specs) > limit:
        raise errors.invalid(f"You may only specify up to {limit} discounts.", "discounts")
    out: list[str | Redeem] = []
    for i, spec in enumerate(specs):
        param = f"discounts[{i}]"
        if not isinstance(spec, dict):
            raise errors.invalid(f"Invalid object: {param}", param)
        if spec.get("discount"):
            if keep is None or spec["discount"] not in keep:
                raise errors.missing("discount", str(spec["discount"]), f"{param}[discount]")
            out.append(str(spec["discount"]))
        elif spec.get("promotion_code"):
            promo = redeemable_promo(sim, spec["promotion_code"], f"{param}[promotion_code]", customer=customer,
                                     amount=amount, currency=currency, now=now)
            out.append(Redeem(redeemable(sim, promo["promotion"]["coupon"], f"{param}[promotion_code]", currency,
                                         now), promo))
        elif spec.get("coupon"):
            out.append(Redeem(redeemable(sim, spec["coupon"], f"{param}[coupon]", currency, now)))
        else:
            raise errors.invalid(f"Missing required param: {param}[coupon].", f"{param}[coupon]")
    return out


def create_discount(sim: Sim, coupon: dict[str, Any], *, customer: str, start: int, clock: str | None,
                    subscription: str | None = None, promo: dict[str, Any] | None = None) -> dict[str, Any]:
    """Redeem ``coupon`` (and ``promo``: ``times_redeemed`` + 1 each) and emit ``customer.discount.created``."""
    months = coupon["duration_in_months"] if coupon["duration"] == "repeating" else None
    disc = sim.new("di", "discount", clock, {
        "checkout_session": None, "customer": customer, "customer_account": None,
        "end": add_months(start, int(months)) if months else None, "invoice": None, "invoice_item": None,
        "promotion_code": promo["id"] if promo else None, "source": {"coupon": coupon["id"], "type": "coupon"},
        "start": start, "subscription": subscription, "subscription_item": None})
    disc.pop("created", None)
    disc.pop("livemode", None)
    disc.pop("metadata", None)
    coupon["times_redeemed"] = int(coupon["times_redeemed"]) + 1
    redeem_promo(promo)
    sim.emit("customer.discount.created", disc)
    return disc


def coupon_of(sim: Sim, disc: dict[str, Any]) -> dict[str, Any]:
    return sim.store.get(disc["source"]["coupon"])


def replace(sim: Sim, sub: dict[str, Any], wanted: list[str | Redeem], now: int) -> None:
    """Make ``sub["discounts"]`` exactly ``wanted``: drop the rest, redeem the new coupons."""
    kept = [w for w in wanted if isinstance(w, str)]
    for did in sub["discounts"]:
        if did not in kept:
            _drop(sim, sim.store.get(did))
    ids: list[str] = []
    for w in wanted:
        if isinstance(w, str):
            ids.append(w)
        else:
            ids.append(create_discount(sim, w.coupon, customer=sub["customer"], start=now, clock=sim.clock_of(sub),
                                       subscription=sub["id"], promo=w.promo)["id"])
    sub["discounts"] = ids


def _drop(sim: Sim, disc: dict[str, Any]) -> None:
    sim.store.m(disc["id"])["removed"] = True
    sim.emit("customer.discount.deleted", disc)


def expire_due(sim: Sim, sub: dict[str, Any], at: int) -> None:
    """Before invoicing the period starting ``at``: drop discounts that no longer cover it."""
    ended = []
    for did in sub["discounts"]:
        disc = sim.store.get(did)
        if sim.store.m(did).get("used") or (disc["end"] is not None and int(disc["end"]) <= at):
            ended.append(did)
    if not ended:
        return
    before = sim.render(sub)
    sub["discounts"] = [d for d in sub["discounts"] if d not in ended]
    for did in ended:
        _drop(sim, sim.store.get(did))
    sim.emit_updated("customer.subscription.updated", sub, before)


def _percent_of(amount: int, percent: float) -> int:
    """Half up to the minor unit, per line, as Stripe rounds."""
    return int((Decimal(amount) * Decimal(str(percent)) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(amounts: list[int], coupons: list[dict[str, Any]]) -> list[list[int]]:
    """Per coupon, per line: what it takes off. Each coupon works on what the earlier ones left.

    ``amount_off`` is capped at what is left and spread over the lines in proportion to them
    (the rounding remainder goes to the first lines), so no line goes below zero.
    """
    left = [max(0, a) for a in amounts]
    out = []
    for coupon in coupons:
        if coupon["percent_off"] is not None:
            cut = [_percent_of(x, coupon["percent_off"]) for x in left]
        else:
            base = sum(left)
            cap = min(int(coupon["amount_off"]), base)
            cut = [cap * x // base if base else 0 for x in left]
            rest = cap - sum(cut)
            for i, x in enumerate(left):
                extra = min(rest, x - cut[i])
                cut[i] += extra
                rest -= extra
        left = [x - c for x, c in zip(left, cut, strict=True)]
        out.append(cut)
    return out


def applicable(sim: Sim, sub: dict[str, Any], at: int) -> list[dict[str, Any]]:
    """The subscription's discounts that still cover a period starting ``at``."""
    out = []
    for did in sub.get("discounts") or []:
        disc = sim.store.get(did)
        if sim.store.m(did).get("used"):
            continue
        if disc["end"] is not None and int(disc["end"]) <= at:
            continue
        out.append(disc)
    return out


def apply(sim: Sim, sub: dict[str, Any] | None, lines: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Set each discountable line's ``discount_amounts``; return the invoice's discounts and totals."""
    idx = [i for i, ln in enumerate(lines) if ln["discountable"] and int(ln["amount"]) > 0]
    if sub is None or not idx:
        return [], []
    at = min(int(lines[i]["period"]["start"]) for i in idx)
    discs = applicable(sim, sub, at)
    if not discs:
        return [], []
    cuts = allocate([int(lines[i]["amount"]) for i in idx], [coupon_of(sim, d) for d in discs])
    for pos, i in enumerate(idx):
        lines[i]["discount_amounts"] = [{"amount": cut[pos], "discount": d["id"]}
                                        for d, cut in zip(discs, cuts, strict=True)]
    totals = [{"amount": sum(cut), "discount": d["id"]} for d, cut in zip(discs, cuts, strict=True)]
    return [d["id"] for d in discs], totals


def consume(sim: Sim, inv: dict[str, Any]) -> None:
    """A ``once`` discount has had its invoice: it stops applying, and goes at the next renewal."""
    for did in inv.get("discounts") or []:
        disc = sim.store.find(did)
        if disc is not None and coupon_of(sim, disc)["duration"] == "once":
            sim.store.m(did)["used"] = True


RENDERERS["discount"] = lambda sim, d: dict(d)
