"""Stripe products and prices as local plans and prices.

Which stream a product's money belongs to decides deferral and every report, so it is
decided once, here: a product named in `--donation-products`, or whose metadata says
`stream=recurring_donation` (our own products carry it) or `kind=donation`, is a
recurring donation; `stream=membership` or `kind=tier` is a membership tier; anything
else counts as membership (what a newsroom's Stripe account mostly sells) and is
listed in the summary so finance can check it. A product we already have (our own
catalogue, or an earlier adoption) is left as it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from membership.billing.adoption.summary import Summary
from membership.billing.models import Plan, PlanKind, Price
from membership.enums import Interval, Stream
from membership.extensions import db

_DONATION = {"recurring_donation", "donation"}
_MEMBERSHIP = {"membership", "tier"}


def product_stream(product: dict[str, Any], donation_products: frozenset[str]) -> Stream | None:
    """The stream the product's metadata or the operator names; None when nothing does."""
    if product["id"] in donation_products:
        return Stream.RECURRING_DONATION
    metadata = product.get("metadata") or {}
    for key in ("stream", "kind"):
        value = str(metadata.get(key) or "").strip().lower()
        if value in _DONATION:
            return Stream.RECURRING_DONATION
        if value in _MEMBERSHIP:
            return Stream.MEMBERSHIP
    return None


def adopt_product(product: dict[str, Any], donation_products: frozenset[str], summary: Summary) -> Plan:
    plan = db.session.scalar(select(Plan).where(Plan.stripe_product_id == product["id"]))
    if plan is not None:
        return plan
    stream = product_stream(product, donation_products)
    if stream is None:
        stream = Stream.MEMBERSHIP
        summary.could_not_map(f"product {product['id']} ({product.get('name') or 'no name'}): no stream in its "
                              f"metadata or --donation-products; counted as membership")
    plan = Plan(code=_free_code(product), name=str(product.get("name") or product["id"])[:200],
                description=str(product.get("description") or ""), stream=stream,
                kind=PlanKind.RECURRING_DONATION if stream is Stream.RECURRING_DONATION else PlanKind.MEMBERSHIP,
                active=bool(product.get("active", True)), stripe_product_id=product["id"])
    db.session.add(plan)
    db.session.flush()
    summary.note("plans created")
    return plan


def _free_code(product: dict[str, Any]) -> str:
    """The product's `plan_code`/`tier` metadata when free, else one made from its id."""
    metadata = product.get("metadata") or {}
    for wanted in (metadata.get("plan_code"), metadata.get("tier")):
        code = str(wanted or "").strip()[:64]
        if code and db.session.scalar(select(Plan.id).where(Plan.code == code)) is None:
            return code
    return f"stripe-{product['id']}"[:64]


def adopt_price(price: dict[str, Any], summary: Summary) -> Price | None:
    """The local price for a Stripe price of an adopted product (None: listed as unmapped)."""
    existing = db.session.scalar(select(Price).where(Price.stripe_price_id == price["id"]))
    if existing is not None:
        return existing
    product = price.get("product")
    product_id = product.get("id") if isinstance(product, dict) else product
    plan = db.session.scalar(select(Plan).where(Plan.stripe_product_id == product_id))
    recurring = price.get("recurring") or {}
    interval = {"month": Interval.MONTH, "year": Interval.YEAR, None: Interval.ONE_TIME}.get(recurring.get("interval"))
    custom = price.get("custom_unit_amount") or {}
    amount = None if custom else price.get("unit_amount")
    why = None
    if plan is None:
        why = f"its product {product_id} was not adopted"
    elif interval is None:
        why = f"interval {recurring.get('interval')!r} is not monthly or yearly"
    elif amount is not None and int(amount) <= 0:
        why = "a zero amount"
    elif int(recurring.get("interval_count") or 1) != 1:
        why = f"every {recurring.get('interval_count')} {recurring.get('interval')}s (subscriptions keep it)"
    if why is None and plan is not None and interval is not None:
        twin = db.session.scalar(select(Price.stripe_price_id).where(
            Price.plan_id == plan.id, Price.currency == str(price["currency"]).upper(), Price.interval == interval,
            Price.amount_minor == amount if amount is not None else Price.amount_minor.is_(None)))
        if twin is not None:
            why = f"the same amount as {twin} (subscriptions on it count by their metadata, else as membership)"
    if why is not None or plan is None or interval is None:
        summary.could_not_map(f"price {price['id']}: {why}")
        return None
    row = Price(plan_id=plan.id, currency=str(price["currency"]).upper(), interval=interval,
                amount_minor=int(amount) if amount is not None else None,
                min_amount_minor=int(custom.get("minimum") or 0), max_amount_minor=custom.get("maximum"),
                stripe_price_id=price["id"], active=bool(price.get("active", True)))
    db.session.add(row)
    db.session.flush()
    summary.note("prices created")
    return row
