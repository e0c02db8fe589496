"""Promotion codes: looked up at Stripe, where they live (created in the dashboard, never
mirrored here), so a code made there works on the join page with no setup on our side.

`find_promotion_code` answers what a reader typed; `intro_offers` lists the active
codes marked as a tier's introductory offer (`metadata.intro`: plan codes, comma
separated, or `*`). Both return plain values with the coupon read alongside, since
the page must show the discounted price before the reader pays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, currency, metadata


@dataclass(frozen=True)
class Coupon:
    id: str
    percent_off: float | None
    amount_off: int | None
    currency: str | None  # upper case; only with amount_off
    duration: str  # once | repeating | forever
    duration_in_months: int | None
    valid: bool


@dataclass(frozen=True)
class PromotionCode:
    id: str
    code: str
    active: bool  # Stripe's rendered flag: not expired, coupon valid, redemptions left
    coupon: Coupon
    customer_id: str | None  # restricted to one customer
    first_time_only: bool
    minimum_amount: int | None
    minimum_currency: str | None  # upper case
    metadata: dict[str, str]
    times_redeemed: int = 0
    max_redemptions: int | None = None
    expires_at: int | None = None  # unix seconds


def _coupon(data: dict[str, Any]) -> Coupon:
    pct = data.get("percent_off")
    return Coupon(id=str(data["id"]), percent_off=float(pct) if pct is not None else None,
                  amount_off=int(data["amount_off"]) if data.get("amount_off") is not None else None,
                  currency=currency(data.get("currency")), duration=str(data.get("duration") or "once"),
                  duration_in_months=data.get("duration_in_months"), valid=bool(data.get("valid", True)))


def _coupon_of(promo: dict[str, Any]) -> Coupon:
    ref = (promo.get("promotion") or {}).get("coupon") or promo.get("coupon")
    if isinstance(ref, dict):
        return _coupon(ref)
    return _coupon(as_dict(stripe_client().v1.coupons.retrieve(str(ref))))


def _promotion(promo: dict[str, Any]) -> PromotionCode:
    r = promo.get("restrictions") or {}
    return PromotionCode(
        id=str(promo["id"]), code=str(promo["code"]), active=bool(promo.get("active")), coupon=_coupon_of(promo),
        customer_id=promo.get("customer"), first_time_only=bool(r.get("first_time_transaction")),
        minimum_amount=int(r["minimum_amount"]) if r.get("minimum_amount") is not None else None,
        minimum_currency=currency(r.get("minimum_amount_currency")), metadata=metadata(promo),
        times_redeemed=int(promo.get("times_redeemed") or 0),
        max_redemptions=int(promo["max_redemptions"]) if promo.get("max_redemptions") is not None else None,
        expires_at=int(promo["expires_at"]) if promo.get("expires_at") is not None else None)


@translating
def find_promotion_code(code: str) -> PromotionCode | None:
    """The code as a reader typed it (Stripe matches regardless of case), or None when
    Stripe has no such code. An inactive or expired one is returned with active=False,
    so the page can say which it is."""
    found = stripe_client().v1.promotion_codes.list(params={"code": code, "limit": 10}).data
    promos = [as_dict(p) for p in found]
    if not promos:
        return None
    promos.sort(key=lambda p: (not p.get("active"), -int(p.get("created") or 0)))
    return _promotion(promos[0])


@translating
def intro_offers() -> list[PromotionCode]:
    """Active codes whose metadata names the tiers they introduce (`intro`)."""
    page = stripe_client().v1.promotion_codes.list(params={"active": True, "limit": 100}).data
    return [_promotion(d) for d in (as_dict(p) for p in page) if (d.get("metadata") or {}).get("intro")]
