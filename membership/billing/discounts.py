"""The monthly value of a subscription's discounts, for MRR net of discounts.

REVENUE.md: MRR is net of the discounts active now, and full-price and discount MRR
are kept too, so an intro offer ending shows as expansion. Choices written down here:

- A discount counts while Stripe still lists it on the subscription. Stripe removes a
  repeating coupon at the first renewal after its `end`, which is when the reader
  starts paying full price, so the expansion is dated by that renewal's event.
- `once` coupons discount one invoice, not the run rate: they do not reduce MRR
  (the invoice's lower amount is in the cash reports, not in MRR).
- `percent_off` is taken off the monthly amount, rounded half up to the minor unit;
  `amount_off` is per invoice, so it is normalised to a month like the price, and
  only counts in the subscription's currency. Several discounts apply in order, each
  to what the earlier ones left (as Stripe stacks them), so MRR never goes below zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from membership.billing import mrr


def monthly_discount_minor(data: dict[str, Any], full_mrr_minor: int) -> int:
    """The monthly discount of a re-fetched subscription (`discounts.source.coupon` expanded)."""
    item = ((data.get("items") or {}).get("data") or [{}])[0]
    recurring = (item.get("price") or {}).get("recurring") or {}
    interval = str(recurring.get("interval") or "month")
    interval_count = int(recurring.get("interval_count") or 1)
    currency = str(data.get("currency") or "").lower()
    left = full_mrr_minor
    for coupon in _coupons(data):
        if coupon.get("duration") == "once":
            continue
        if coupon.get("percent_off") is not None:
            share = Decimal(str(coupon["percent_off"])) / 100
            left -= min(left, int((left * share).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        elif coupon.get("amount_off") is not None and str(coupon.get("currency") or "").lower() == currency:
            left -= min(left, mrr.monthly_minor(int(coupon["amount_off"]), 1, interval, interval_count))
    return full_mrr_minor - left


def discount_ids(data: dict[str, Any]) -> tuple[str, ...]:
    """The subscription's discount ids, whether the payload has ids or expanded objects."""
    ids = [d if isinstance(d, str) else str((d or {}).get("id") or "") for d in data.get("discounts") or []]
    return tuple(sorted(i for i in ids if i))


def _coupons(data: dict[str, Any]) -> list[dict[str, Any]]:
    coupons = []
    for discount in data.get("discounts") or []:
        if not isinstance(discount, dict):
            raise ValueError("subscription discounts must be expanded (expand discounts.source.coupon)")
        coupon = (discount.get("source") or {}).get("coupon")
        if isinstance(coupon, dict):
            coupons.append(coupon)
        elif coupon:
            raise ValueError("discount coupons must be expanded (expand discounts.source.coupon)")
    return coupons
