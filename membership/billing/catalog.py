"""Plans and prices mirrored to Stripe, idempotently.

Fixed-amount prices become Stripe Prices (each created once: a deterministic
idempotency key plus a `lookup_key` looked up first, so a lost database row or an
expired key still finds the existing Price instead of creating a twin). Each plan
becomes a Product. Pay-what-you-want prices get no Stripe Price: checkout and
amount changes use inline `price_data` on the plan's Product with the amount the
reader chose, because Stripe's `custom_unit_amount` cannot be recurring and we
want cover-the-fees computed by us. `flask catalog sync` runs it; checkout calls
`ensure_price` lazily, so the demo works without a manual sync.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from sqlalchemy import select

from membership.billing.gateway import idempotency_key
from membership.billing.gateway.catalog import create_product, price_for_lookup_key
from membership.billing.models import Plan, Price
from membership.billing.processor import processor_errors
from membership.enums import Interval
from membership.extensions import db
from membership.unit_of_work import unit_of_work

bp = Blueprint("catalog", __name__, cli_group="catalog")


@dataclass
class SyncReport:
    products: int = 0
    prices: int = 0


def lookup_key(plan: Plan, price: Price) -> str:
    return f"{plan.code}:{price.currency.lower()}:{price.interval.value}:{price.amount_minor}"


def ensure_product(plan: Plan) -> str:
    """The plan's Stripe Product id, created once. Flushes."""
    if plan.stripe_product_id:
        return plan.stripe_product_id
    with processor_errors():
        product_id = create_product(
            plan.name, plan.description or plan.name, {"plan_code": plan.code, "stream": plan.stream.value},
            idempotency_key("catalog", "product", plan.code, plan.created_at.isoformat()))
    plan.stripe_product_id = product_id
    db.session.flush()
    return product_id


def ensure_price(price: Price) -> str | None:
    """The Stripe Price id of a fixed-amount price (None for pay-what-you-want). Flushes."""
    if price.stripe_price_id or price.amount_minor is None:
        return price.stripe_price_id
    plan = db.session.get(Plan, price.plan_id)
    assert plan is not None
    product = ensure_product(plan)
    key = lookup_key(plan, price)
    with processor_errors():
        stripe_id = price_for_lookup_key(
            key, product_id=product, currency=price.currency, unit_amount=price.amount_minor,
            interval=price.interval.value if price.interval is not Interval.ONE_TIME else None,
            metadata={"price_id": str(price.id), "plan_code": plan.code, "stream": plan.stream.value},
            idempotency_key=idempotency_key("catalog", "price", product, key))
    price.stripe_price_id = stripe_id
    db.session.flush()
    return stripe_id


def sync_catalog() -> SyncReport:
    """Every active plan's product and fixed price at Stripe. Flushes."""
    report = SyncReport()
    for plan in db.session.scalars(select(Plan).where(Plan.active).order_by(Plan.id)):
        if not plan.stripe_product_id:
            ensure_product(plan)
            report.products += 1
        for price in db.session.scalars(select(Price).where(Price.plan_id == plan.id, Price.active)):
            if price.stripe_price_id is None and price.amount_minor is not None:
                ensure_price(price)
                report.prices += 1
    return report


@bp.cli.command("sync")
def sync_command() -> None:
    """Create missing Stripe products and prices for the catalogue (idempotent)."""
    import click

    with unit_of_work():
        report = sync_catalog()
    click.echo(f"catalog synced: {report.products} products, {report.prices} prices created")
