"""The embedded default (SQLite) books money the same way: payment, journal, recognition."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.billing.gateway import stripe_client
from membership.billing.models import Payment
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import RevenueSchedule
from membership.ledger.recognition import last_day, recognize_through
from membership.ledger.services import unbalanced_transactions
from tests.billing.webhook_support import latest_event_id, make_reader, sim_customer
from tests.ledger.money_support import balances, catalogue_price, feed


def test_membership_payment_and_recognition_on_sqlite(sqlite_app: Flask, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(1200)
    mark = latest_event_id()
    stripe_client().v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    feed(sqlite_app.test_client(), mark, {customer.id})
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.gross_minor, payment.fee_minor, payment.stream) == (1200, 65, Stream.MEMBERSHIP)
    schedule = db.session.scalars(select(RevenueSchedule)).one()
    recognize_through(last_day(schedule))
    db.session.commit()
    assert balances(Stream.MEMBERSHIP) == {"stripe_clearing": 1135, "processor_fees": 65,
                                           "deferred_revenue": 0, "membership_revenue": -1200}
    assert unbalanced_transactions() == []
