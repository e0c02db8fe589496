"""Catalogue sync to Stripe: `flask catalog sync` is idempotent and stores the ids."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.billing.catalog import sync_catalog
from membership.billing.fees import fee_to_cover
from membership.billing.models import Plan, Price
from membership.extensions import db


def test_catalog_sync_cli_is_idempotent(app: Flask, catalogue: None, stripe: Any) -> None:
    result = app.test_cli_runner().invoke(args=["catalog", "sync"])
    assert result.exit_code == 0 and "catalog synced" in result.output, result.output
    plans = list(db.session.scalars(select(Plan)))
    assert plans and all(p.stripe_product_id for p in plans)
    fixed = list(db.session.scalars(select(Price).where(Price.amount_minor.is_not(None))))
    assert fixed and all(p.stripe_price_id for p in fixed)
    assert all(p.stripe_price_id is None for p in db.session.scalars(
        select(Price).where(Price.amount_minor.is_(None))))  # pay-what-you-want: inline price_data
    remote = stripe.v1.prices.retrieve(fixed[0].stripe_price_id)
    # the simulator outlives this test's database, so the price found by lookup key may have been
    # made by an earlier test for another local row: what must agree is what it charges
    assert (remote.unit_amount, remote.currency.upper(), remote.active) == (
        fixed[0].amount_minor, fixed[0].currency.upper(), True)
    again = sync_catalog()
    assert (again.products, again.prices) == (0, 0)
    # a lost local id finds the same Stripe price again (lookup key), never a twin
    lost = fixed[0].stripe_price_id
    fixed[0].stripe_price_id = None
    sync_catalog()
    assert fixed[0].stripe_price_id == lost


def test_fee_model() -> None:
    assert fee_to_cover(2500) == 106  # 2606 - (2.9% of 2606 = 75.6 + 30) >= 2500
    for amount in (1, 99, 500, 1234, 10_000, 999_999):
        total = amount + fee_to_cover(amount)
        assert total - (total * 29 / 1000 + 30) >= amount
        assert (total - 1) - ((total - 1) * 29 / 1000 + 30) < amount  # the smallest such total
    assert fee_to_cover(0) == 0
