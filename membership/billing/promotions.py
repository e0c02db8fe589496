"""Promotion codes and intro offers on a purchase: the price a reader sees before paying.

Codes live at Stripe (made in the dashboard); we look them up through the gateway
and never keep a copy, so there is nothing to set up here. An intro offer is an
active code whose metadata `intro` names the tiers it introduces (`member,sustainer`
or `*`): a tier card shows it and Checkout applies it when the reader typed no code.

"The price shown is the price charged": `first_amount_minor` uses Stripe's own
arithmetic for one line (percent off rounded half up to the minor unit; an amount off
only in its own currency, never below zero), and Checkout gets the same code as
`discounts[][promotion_code]`. The checks Stripe makes at redemption that we can
make first (active, currency, minimum amount, one customer's code) are made here so
the reader sees the reason next to the field; "first purchase only" depends on the
customer's history at Stripe, so its refusal comes back from Checkout's creation
(`start_checkout` maps it to the same error).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app

from membership.billing.gateway.promotions import Coupon, PromotionCode, find_promotion_code, intro_offers
from membership.billing.processor import processor_errors
from membership.enums import Interval
from membership.errors import InvalidInput

INTRO_CACHE_SECONDS = 60.0  # a page view must not cost a Stripe list call; a new offer shows within a minute


class PromotionRefused(InvalidInput):
    """The code cannot be used for this purchase; `reason` names why for the page."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"/promotion_code: {detail}", errors=[{"pointer": "/promotion_code", "detail": detail}])
        self.reason = reason  # unknown | expired | currency | minimum | customer


@dataclass(frozen=True)
class AppliedPromotion:
    promotion_code_id: str
    code: str
    coupon: Coupon
    full_amount_minor: int
    first_amount_minor: int  # what the first invoice charges
    discounted_payments: int | None  # how many payments get it; None: every one
    intro: bool = False


def discounted(amount_minor: int, coupon: Coupon) -> int:
    """One line's amount after the coupon, as Stripe computes it."""
    if coupon.percent_off is not None:
        cut = (Decimal(amount_minor) * Decimal(str(coupon.percent_off)) / 100).quantize(Decimal(1), ROUND_HALF_UP)
        return max(0, amount_minor - int(cut))
    return max(0, amount_minor - (coupon.amount_off or 0))


def discounted_payments(coupon: Coupon, interval: Interval) -> int | None:
    """Payments the coupon reaches: `repeating` lasts N months from the first invoice."""
    if coupon.duration == "once":
        return 1
    if coupon.duration == "forever":
        return None
    months = coupon.duration_in_months or 1
    per = 12 if interval is Interval.YEAR else 1
    return max(1, -(-months // per))


def _check(promo: PromotionCode, amount_minor: int, currency: str, customer_id: str | None) -> None:
    if not promo.active or not promo.coupon.valid:
        raise PromotionRefused("expired", f"the code {promo.code} has expired or is no longer active")
    if promo.coupon.amount_off is not None and promo.coupon.currency != currency:
        raise PromotionRefused("currency", f"the code {promo.code} is for payments in {promo.coupon.currency}")
    if promo.customer_id and promo.customer_id != customer_id:
        raise PromotionRefused("customer", f"the code {promo.code} belongs to another account")
    if promo.minimum_amount is not None and (promo.minimum_currency != currency or amount_minor < promo.minimum_amount):
        raise PromotionRefused("minimum", f"the code {promo.code} needs a larger purchase")


def _applied(promo: PromotionCode, amount_minor: int, interval: Interval, intro: bool = False) -> AppliedPromotion:
    return AppliedPromotion(promo.id, promo.code, promo.coupon, amount_minor, discounted(amount_minor, promo.coupon),
                            discounted_payments(promo.coupon, interval), intro)


def lookup(code: str) -> PromotionCode:
    """The code at Stripe (any case), or PromotionRefused("unknown")."""
    with processor_errors():
        promo = find_promotion_code(code.strip())
    if promo is None:
        raise PromotionRefused("unknown", f"there is no code {code.strip()}")
    return promo


def apply(promo: PromotionCode, amount_minor: int, currency: str, interval: Interval,
          customer_id: str | None = None) -> AppliedPromotion:
    """The code applied to one price, or PromotionRefused saying why not."""
    _check(promo, amount_minor, currency, customer_id)
    return _applied(promo, amount_minor, interval)


def apply_code(code: str, amount_minor: int, currency: str, interval: Interval,
               customer_id: str | None = None) -> AppliedPromotion:
    """The typed code applied to one price, or PromotionRefused saying why not."""
    return apply(lookup(code), amount_minor, currency, interval, customer_id)


_intro_cache: dict[tuple[str, str], tuple[float, list[PromotionCode]]] = {}  # per Stripe account and address
_intro_lock = threading.Lock()


def _intro_codes() -> list[PromotionCode]:
    settings = current_app.config["SETTINGS"]
    key = (settings.stripe_secret_key, settings.stripe_api_base)
    with _intro_lock:
        cached = _intro_cache.get(key)
        if cached is None or time.monotonic() - cached[0] > INTRO_CACHE_SECONDS:
            with processor_errors():
                cached = _intro_cache[key] = (time.monotonic(), intro_offers())
        return cached[1]


def forget_intro_offers() -> None:
    """Drop the cached lists (tests that create an offer; a staff action could call it too)."""
    with _intro_lock:
        _intro_cache.clear()


def intro_offer(plan_code: str, amount_minor: int, currency: str, interval: Interval) -> AppliedPromotion | None:
    """The tier's intro offer for this price, when one is active and usable by anyone."""
    for promo in _intro_codes():
        plans = {p.strip() for p in promo.metadata.get("intro", "").split(",")}
        if plan_code not in plans and "*" not in plans:
            continue
        try:
            _check(promo, amount_minor, currency, None)
        except PromotionRefused:
            continue
        return _applied(promo, amount_minor, interval, intro=True)
    return None
