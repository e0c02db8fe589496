"""The embedded default (SQLite): a price change is announced, listed and applied there too
(the change is read off its notices' keys with SQL both databases run)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask

from membership.billing import price_change_report, price_changes
from membership.billing.price_change_apply import apply_due
from membership.billing.price_change_records import Change, announced
from membership.extensions import db
from tests.factories.billing import PriceFactory, SubscriptionFactory


def test_announce_list_and_apply_on_sqlite(sqlite_app: Flask) -> None:
    old = PriceFactory(amount_minor=1000, stripe_price_id=f"price_{uuid.uuid4().hex[:10]}")
    new = PriceFactory(plan_id=old.plan_id, amount_minor=1200, active=False,
                       stripe_price_id=f"price_{uuid.uuid4().hex[:10]}")  # nothing asks Stripe
    SubscriptionFactory(price_id=old.id)
    now = datetime(2031, 1, 1, tzinfo=UTC)
    effective = now + timedelta(days=30)
    assert price_changes.announce(old.id, 1200, effective, now=now).created == 1
    db.session.commit()
    assert announced() == [Change(effective, old.id, 1200)]
    assert price_changes.scheduled(old.id, 1200, effective)[0] == 1
    [state] = price_change_report.changes()
    assert state.state == "announced" and state.new is not None and state.new.id == new.id
    [run] = apply_due(effective + timedelta(minutes=5)).changes
    db.session.commit()
    assert run.on_sale_now and run.held_count == 1  # the notice was never sent
    [state] = price_change_report.changes()
    assert state.state == "partly held" and state.held_count == 1
