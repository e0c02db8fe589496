"""Mail paths that start at Stripe (the offline simulator over HTTP, real SDK):
a trial_will_end webhook handled three times mails once; cards expiring next month."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.billing.events import StripeEvent, dispatch
from membership.billing.gateway import stripe_client
from membership.billing.notices.cards import find_expiring_cards
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice, NoticeStatus
from tests.factories.billing import SubscriptionFactory
from tests.factories.readers import ReaderFactory
from tests.mail.conftest import bodies, parse
from tests.mail.test_worker import _purge_mail_queue
from tests.support.worker import wait_until


def _price(amount: int = 800) -> Any:
    client = stripe_client()
    product = client.v1.products.create(params={"name": "Member"})
    return client.v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": amount,
                                           "recurring": {"interval": "month"}})


def _customer(reader: Reader) -> Any:
    return stripe_client().v1.customers.create(params={
        "email": reader.email, "metadata": {"reader_id": str(reader.id)}, "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})


def _event(type_: str, obj_id: str) -> StripeEvent:
    return StripeEvent.from_payload({"id": "evt_mail_thrice", "type": type_, "created": int(time.time()),
                                     "api_version": None, "data": {"object": {"id": obj_id}}})


def test_trial_will_end_processed_three_times_mails_once(
    app: Flask, committed_db: None, stripe_sim: Any, mailbox: Any, start_worker: Any
) -> None:
    _purge_mail_queue(app)
    reader = ReaderFactory(email="trialist@example.org")
    customer = _customer(reader)
    reader.stripe_customer_id = customer.id
    db.session.commit()
    sub = stripe_client().v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": _price().id}], "trial_period_days": 14})
    for _ in range(3):  # the same event handled three times (redelivery, replay, sweeper)
        dispatch(_event("customer.subscription.trial_will_end", sub.id))
        db.session.commit()
    [notice] = db.session.scalars(select(Notice).where(Notice.kind == "trial_will_end")).all()
    notice_id = notice.id
    start_worker(queues="mail")

    def sent() -> bool:
        db.session.expire_all()
        row = db.session.get(Notice, notice_id)
        return row is not None and row.status is NoticeStatus.SENT

    assert wait_until(sent, timeout=30)
    time.sleep(1.0)
    assert len(mailbox.messages) == 1 and mailbox.messages[0].rcpt_tos == ["trialist@example.org"]
    msg = parse(mailbox.messages[0].data)
    row = db.session.get(Notice, notice_id)
    assert row is not None and msg["Message-ID"] == row.message_id
    text, html = bodies(msg)
    assert "Your free trial" in text and "$8.00 every month" in text
    assert "cancel at any time, in one click" in text and 'href="http://localhost/account"' in html


def test_cards_expiring_next_month_are_found_once(app: Flask, db_session: Any, stripe_sim: Any) -> None:
    reader = ReaderFactory()
    customer = _customer(reader)
    stripe_sub = stripe_client().v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": _price(1200).id}], "default_payment_method": "pm_card_visa"})
    expanded = stripe_client().v1.subscriptions.retrieve(stripe_sub.id, params={"expand": ["default_payment_method"]})
    card = expanded.default_payment_method.card
    local = SubscriptionFactory(reader_id=reader.id, stripe_subscription_id=stripe_sub.id)
    day = local.id % 28 + 1  # the day of the month whose slice holds this subscription
    month_before = datetime(card.exp_year, card.exp_month, 1, tzinfo=UTC).replace(
        month=card.exp_month - 1 if card.exp_month > 1 else 12,
        year=card.exp_year if card.exp_month > 1 else card.exp_year - 1)
    now = month_before.replace(day=day, hour=9)
    assert find_expiring_cards(now.replace(day=day % 28 + 1)) == 0  # another day's slice
    assert find_expiring_cards(now.replace(year=now.year - 1)) == 0  # expires in more than a month
    assert find_expiring_cards(now, limit=0) == 0  # the per-run bound holds
    assert find_expiring_cards(now) == 1
    assert find_expiring_cards(now) == 0
    [notice] = db_session.scalars(select(Notice).where(Notice.kind == "card_expiring")).all()
    context = json.loads(notice.context)
    assert context == {"subscription_id": local.id, "brand": "visa", "last4": "4242",
                       "exp_month": card.exp_month, "exp_year": card.exp_year}
    assert notice.dedupe_key == f"{expanded.default_payment_method.id}:{card.exp_year}-{card.exp_month:02d}"
