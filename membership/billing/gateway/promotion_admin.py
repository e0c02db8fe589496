"""Making and switching off promotion codes at Stripe (the console's Catalogue page).

Reading a code for a purchase stays in `gateway/promotions.py`; this is the staff side.
A code is created with its own new coupon (one code, one discount: deactivating the
code never touches another code's coupon). Both creations carry idempotency keys built
from the caller's key, so a double-submitted form makes one coupon and one code.
"""

from __future__ import annotations

from dataclasses import dataclass

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.promotions import PromotionCode, _promotion
from membership.billing.gateway.shapes import as_dict
from membership.money import stripe_currency

LIST_LIMIT = 100


@dataclass(frozen=True)
class NewCode:
    code: str
    percent_off: float | None  # exactly one of percent_off and amount_off
    amount_off: int | None
    currency: str | None  # with amount_off
    duration: str  # once | forever | repeating
    duration_in_months: int | None  # with repeating
    max_redemptions: int | None
    expires_at: int | None  # unix seconds
    metadata: dict[str, str]


@translating
def list_promotion_codes(limit: int = LIST_LIMIT) -> list[PromotionCode]:
    """The newest codes, active or not, each with its coupon (one call: expanded)."""
    page = stripe_client().v1.promotion_codes.list(
        params={"limit": limit, "expand": ["data.promotion.coupon"]}).data
    return [_promotion(as_dict(p)) for p in page]


@translating
def create_promotion_code(new: NewCode, idempotency_key: str) -> PromotionCode:
    client = stripe_client()
    coupon: dict[str, object] = {"duration": new.duration, "name": new.code,
                                 "metadata": {"promotion_code": new.code, **new.metadata}}
    if new.percent_off is not None:
        coupon["percent_off"] = new.percent_off
    else:
        coupon["amount_off"] = new.amount_off
        coupon["currency"] = stripe_currency(new.currency or "")
    if new.duration == "repeating":
        coupon["duration_in_months"] = new.duration_in_months
    made = client.v1.coupons.create(params=coupon,  # type: ignore[arg-type]
                                    options={"idempotency_key": f"{idempotency_key}:coupon"})
    params: dict[str, object] = {"promotion": {"type": "coupon", "coupon": made.id}, "code": new.code,
                                 "metadata": new.metadata}
    if new.max_redemptions is not None:
        params["max_redemptions"] = new.max_redemptions
    if new.expires_at is not None:
        params["expires_at"] = new.expires_at
    promo = client.v1.promotion_codes.create(params=params,  # type: ignore[arg-type]
                                             options={"idempotency_key": f"{idempotency_key}:code"})
    return _promotion(as_dict(client.v1.promotion_codes.retrieve(
        promo.id, params={"expand": ["promotion.coupon"]})))


@translating
def set_promotion_code_active(promotion_code_id: str, active: bool) -> PromotionCode:
    """Idempotent by nature: the same flag set twice is the same state."""
    client = stripe_client()
    client.v1.promotion_codes.update(promotion_code_id, params={"active": active})
    return _promotion(as_dict(client.v1.promotion_codes.retrieve(
        promotion_code_id, params={"expand": ["promotion.coupon"]})))
