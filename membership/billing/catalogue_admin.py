"""The catalogue as staff see and change it: tiers with their prices and trials (the
local mirror that `catalog.py` keeps at Stripe), and promotion codes (at Stripe only).

Trial length has one home, `Price.trial_days`: Checkout reads it for every subscription
it starts (`checkout.py` -> `trial_period_days`), so setting a tier's trial writes it on
each of the tier's recurring prices and nowhere else. Promotion codes are never copied
here (`promotions.py`): the page lists them from Stripe and a change drops the cached
intro offers, so the join page shows the new state at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from membership.billing import gateway
from membership.billing.catalog import SyncReport, sync_catalog
from membership.billing.gateway import promotion_admin
from membership.billing.gateway.promotion_admin import NewCode
from membership.billing.gateway.promotions import PromotionCode
from membership.billing.models import Plan, PlanKind, Price
from membership.billing.processor import ProcessorError, processor_errors
from membership.billing.promotions import forget_intro_offers
from membership.enums import Interval
from membership.errors import InvalidInput, NotFound
from membership.extensions import db

MAX_TRIAL_DAYS = 365


@dataclass
class Tier:
    plan: Plan
    prices: list[Price] = field(default_factory=list)
    offers: list[PromotionCode] = field(default_factory=list)  # active intro offers naming this tier

    @property
    def trial_days(self) -> set[int]:
        return {p.trial_days for p in self.prices if p.active and p.interval is not Interval.ONE_TIME}


def tiers(codes: list[PromotionCode]) -> list[Tier]:
    """Every plan (tiers first, by rank) with its prices by currency and interval."""
    plans = list(db.session.scalars(select(Plan).order_by(Plan.active.desc(), Plan.kind, Plan.rank, Plan.id)))
    by_plan = {p.id: Tier(p) for p in plans}
    for price in db.session.scalars(select(Price).where(Price.plan_id.in_(by_plan))
                                    .order_by(Price.currency, Price.interval, Price.active.desc(), Price.amount_minor)):
        by_plan[price.plan_id].prices.append(price)
    for tier in by_plan.values():
        tier.offers = [c for c in codes if c.active and _introduces(c, tier.plan.code)]
    return list(by_plan.values())


def _introduces(code: PromotionCode, plan_code: str) -> bool:
    named = {p.strip() for p in code.metadata.get("intro", "").split(",") if p.strip()}
    return plan_code in named or "*" in named


def promotion_codes() -> list[PromotionCode]:
    with processor_errors():
        return promotion_admin.list_promotion_codes()


def create_promotion_code(new: NewCode, idempotency_key: str) -> PromotionCode:
    with processor_errors():
        made = promotion_admin.create_promotion_code(new, idempotency_key)
    forget_intro_offers()
    return made


def deactivate_promotion_code(promotion_code_id: str) -> PromotionCode:
    try:
        with processor_errors():
            done = promotion_admin.set_promotion_code_active(promotion_code_id, False)
    except ProcessorError as exc:
        if isinstance(exc.__cause__, gateway.NotFound):
            raise NotFound(f"Stripe has no promotion code {promotion_code_id}.") from exc
        raise
    forget_intro_offers()
    return done


def plan_or_404(plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan {plan_id}.")
    return plan


def set_trial_days(plan: Plan, days: int) -> list[Price]:
    """The trial every new subscription to this tier starts with. Flushes."""
    if not 0 <= days <= MAX_TRIAL_DAYS:
        raise InvalidInput(f"A trial is between 0 (none) and {MAX_TRIAL_DAYS} days.")
    if plan.kind is not PlanKind.MEMBERSHIP:
        raise InvalidInput("Only membership tiers have trials (Checkout gives none to gifts or donations).")
    prices = list(db.session.scalars(select(Price).where(Price.plan_id == plan.id,
                                                         Price.interval != Interval.ONE_TIME)))
    if not prices:
        raise InvalidInput(f"{plan.name} has no recurring price to give a trial to.")
    for price in prices:
        price.trial_days = days
    db.session.flush()
    return prices


def sync() -> SyncReport:
    """Every active plan's product and fixed price at Stripe (what `flask catalog sync` runs)."""
    return sync_catalog()
