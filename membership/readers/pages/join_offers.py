"""What the join form shows: the tiers, each price per interval in one currency, and
the offers on it (a free trial, the tier's intro offer, or the code the reader typed),
with the amount the first payment will be, so the price shown is the price charged.

Plain dicts for the template; the arithmetic is billing's (`billing.promotions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from membership.billing.models import Plan, PlanKind, Price
from membership.billing.processor import ProcessorError
from membership.billing.promotions import AppliedPromotion, intro_offer
from membership.enums import Interval
from membership.extensions import db

INTERVALS = ("month", "year")
DEFAULT_CURRENCY = "USD"


@dataclass
class JoinChoice:
    """The reader's choices as the form carries them (query string or form body)."""

    interval: str = "month"
    currency: str = DEFAULT_CURRENCY
    price_id: int | None = None
    email: str = ""
    code: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def membership_prices() -> list[tuple[Plan, Price]]:
    rows = db.session.execute(select(Plan, Price).join(Price, Price.plan_id == Plan.id).where(
        Plan.kind == PlanKind.MEMBERSHIP, Plan.active, Price.active, Price.amount_minor.is_not(None),
        Price.interval.in_([Interval.MONTH, Interval.YEAR])).order_by(Plan.rank, Plan.id, Price.id))
    return [(plan, price) for plan, price in rows]


def currencies(rows: list[tuple[Plan, Price]]) -> list[str]:
    return sorted({price.currency for _, price in rows})


def pick_currency(raw: str | None, available: list[str]) -> str:
    wanted = (raw or "").strip().upper()
    if wanted in available:
        return wanted
    return DEFAULT_CURRENCY if DEFAULT_CURRENCY in available or not available else available[0]


def _offer(plan: Plan, price: Price, promo: AppliedPromotion | None) -> AppliedPromotion | None:
    if promo is not None:
        return promo
    try:
        return intro_offer(plan.code, price.amount_minor or 0, price.currency, price.interval)
    except ProcessorError:
        return None  # Stripe unreachable: show full prices; Checkout will apply the offer if it is back


def _price_view(plan: Plan, price: Price, promo: AppliedPromotion | None) -> dict[str, Any]:
    offer = _offer(plan, price, promo)
    return {"id": price.id, "amount": price.amount_minor or 0, "currency": price.currency,
            "interval": price.interval.value, "trial_days": price.trial_days, "offer": offer,
            "first_amount": offer.first_amount_minor if offer else price.amount_minor or 0}


def tiers(rows: list[tuple[Plan, Price]], currency: str,
          promos: dict[int, AppliedPromotion] | None = None) -> list[dict[str, Any]]:
    """One card per tier with its month and year prices in `currency` (either may be missing)."""
    promos = promos or {}
    cards: dict[int, dict[str, Any]] = {}
    for plan, price in rows:
        if price.currency != currency:
            continue
        card = cards.setdefault(plan.id, {"code": plan.code, "name": plan.name,
                                          "description": plan.description, "prices": {}})
        card["prices"].setdefault(price.interval.value, _price_view(plan, price, promos.get(price.id)))
    return list(cards.values())


def default_price_id(cards: list[dict[str, Any]], interval: str) -> int | None:
    """The first tier's price, so the form always has a choice made (one click fewer)."""
    for card in cards:
        if interval in card["prices"]:
            return int(card["prices"][interval]["id"])
    return None
