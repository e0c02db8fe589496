"""What a reader may buy or give, and the amount rules.

Amounts: pay-what-you-want prices take the reader's amount in major units as a
decimal string ("12.50"; "500" for JPY, where "500.5" is refused: no cents), at
least the price's minimum and at most a sane ceiling: MAX_MAJOR_UNITS (10,000.00
in any currency) or the price's own maximum, whichever is lower. A gift membership
costs the plan's yearly price for 12 months, else its monthly price x months.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from membership.billing.fees import fee_to_cover
from membership.billing.gifts import delivery_problem
from membership.billing.models import Plan, PlanKind, Price
from membership.billing.reader_schemas import CheckoutIn
from membership.enums import Interval
from membership.errors import InvalidInput
from membership.extensions import db
from membership.money import MoneyError, decimals, normalize_currency, to_minor

MAX_MAJOR_UNITS = 10_000


@dataclass(frozen=True)
class Offer:
    plan: Plan
    price: Price
    kind: str  # membership | recurring_donation | one_time_donation | gift_membership
    amount_minor: int
    fee_minor: int
    currency: str

    @property
    def total_minor(self) -> int:
        return self.amount_minor + self.fee_minor

    @property
    def recurring(self) -> bool:
        return self.kind in ("membership", "recurring_donation")


def bad(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(f"{pointer}: {detail}", errors=[{"pointer": pointer, "detail": detail}])


def ceiling(price: Price) -> int:
    cap = MAX_MAJOR_UNITS * 10 ** decimals(price.currency)
    return min(cap, price.max_amount_minor) if price.max_amount_minor else cap


def parse_amount(raw: str | None, price: Price, pointer: str = "/amount") -> int:
    if raw is None:
        raise bad(pointer, "an amount is required for this offering")
    try:
        minor = to_minor(raw, price.currency)
    except MoneyError as exc:
        raise bad(pointer, str(exc)) from None
    if minor < max(price.min_amount_minor, 1):
        raise bad(pointer, f"below the minimum of {price.min_amount_minor} minor units")
    if minor > ceiling(price):
        raise bad(pointer, f"above the maximum of {ceiling(price)} minor units")
    return minor


def active_plan(code: str) -> Plan:
    plan = db.session.scalar(select(Plan).where(Plan.code == code, Plan.active))
    if plan is None:
        raise bad("/plan", f"no such offering '{code}'")
    return plan


def find_price(plan: Plan, currency: str, interval: Interval) -> Price:
    price = db.session.scalar(select(Price).where(Price.plan_id == plan.id, Price.currency == currency,
                                                  Price.interval == interval, Price.active).order_by(Price.id))
    if price is None:
        raise bad("/currency", f"'{plan.code}' has no {interval.value} price in {currency}")
    return price


def _currency(raw: str) -> str:
    try:
        return normalize_currency(raw)
    except MoneyError as exc:
        raise bad("/currency", str(exc)) from None


def _gift_offer(plan: Plan, data: CheckoutIn, currency: str) -> Offer:
    assert data.gift is not None
    if plan.kind is not PlanKind.MEMBERSHIP:
        raise bad("/gift", "only memberships can be given as gifts")
    if data.gift.deliver_on is not None:
        problem = delivery_problem(data.gift.deliver_on)
        if problem:
            raise bad("/gift/deliver_on", problem)
    months = data.gift.months
    yearly = db.session.scalar(select(Price).where(Price.plan_id == plan.id, Price.currency == currency,
                                                   Price.interval == Interval.YEAR, Price.active))
    if months == 12 and yearly is not None and yearly.amount_minor:
        return Offer(plan, yearly, "gift_membership", yearly.amount_minor, 0, currency)
    monthly = find_price(plan, currency, Interval.MONTH)
    return Offer(plan, monthly, "gift_membership", (monthly.amount_minor or 0) * months, 0, currency)


def resolve(data: CheckoutIn) -> Offer:
    """The offering and exact amounts for a checkout request, or a 422 naming the field."""
    plan = active_plan(data.plan)
    currency = _currency(data.currency)
    donation = plan.kind in (PlanKind.RECURRING_DONATION, PlanKind.ONE_TIME_DONATION)
    if not donation and (data.cover_fees or data.tribute or data.anonymous):
        raise bad("/cover_fees" if data.cover_fees else "/tribute" if data.tribute else "/anonymous",
                  "only donations can cover fees, honour someone or be anonymous")
    if data.gift is not None:
        if data.amount is not None or data.interval is not None:
            raise bad("/gift", "a gift membership has no amount or interval of its own")
        return _gift_offer(plan, data, currency)
    if plan.kind is PlanKind.ONE_TIME_DONATION:
        if data.interval is not None:
            raise bad("/interval", "a one-time gift has no interval")
        price = find_price(plan, currency, Interval.ONE_TIME)
        kind = "one_time_donation"
    else:
        if data.interval is None:
            raise bad("/interval", "choose month or year")
        price = find_price(plan, currency, Interval(data.interval))
        kind = "membership" if plan.kind is PlanKind.MEMBERSHIP else "recurring_donation"
        if not data.accept_auto_renewal:
            raise bad("/accept_auto_renewal", "recurring payments need your consent to automatic renewal")
    if price.amount_minor is not None:
        if data.amount is not None:
            raise bad("/amount", "this offering has a fixed price")
        amount = price.amount_minor
    else:
        amount = parse_amount(data.amount, price)
    fee = fee_to_cover(amount) if data.cover_fees else 0
    return Offer(plan, price, kind, amount, fee, currency)
