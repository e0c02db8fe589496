"""Checkout against stripe_sim over HTTP (the real SDK; nothing mocked)."""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import func, select

from membership.billing.models import CheckoutSession, Donation, Plan, Price, Subscription
from membership.db import utcnow
from membership.enums import Interval, Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Consent, ConsentKind, Reader

MEMBER = {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True}


def _reader(client: Any) -> Reader:
    rid = client.get("/api/me").get_json()["id"]
    reader = db.session.get(Reader, rid)
    assert reader is not None
    return reader


def test_membership_checkout_creates_customer_first_and_is_idempotent(member_client: Any, stripe: Any) -> None:
    first = member_client.post("/api/checkout", json=MEMBER)
    assert first.status_code == 201, first.get_json()
    again = member_client.post("/api/checkout", json=MEMBER)
    assert again.status_code == 201
    assert again.get_json()["stripe_session_id"] == first.get_json()["stripe_session_id"]
    reader = _reader(member_client)
    assert reader.stripe_customer_id
    customer = stripe.v1.customers.retrieve(reader.stripe_customer_id)
    assert customer.metadata["reader_id"] == str(reader.id)
    session = stripe.v1.checkout.sessions.retrieve(first.get_json()["stripe_session_id"])
    assert session.customer == reader.stripe_customer_id and session.mode == "subscription"
    assert session.metadata["reader_id"] == str(reader.id)
    assert db.session.scalar(select(func.count()).select_from(CheckoutSession).where(
        CheckoutSession.reader_id == reader.id)) == 1
    consent = db.session.scalar(select(Consent).where(Consent.reader_id == reader.id,
                                                      Consent.kind == ConsentKind.AUTO_RENEWAL))
    assert consent is not None and consent.price_shown_minor == 1000 and consent.price_shown_currency == "USD"
    price = db.session.scalar(select(Price).join(Plan).where(Plan.code == "member", Price.currency == "USD",
                                                             Price.interval == Interval.MONTH))
    assert price is not None and price.stripe_price_id  # synced lazily


def test_pay_on_hosted_page_makes_an_active_subscription_at_stripe(member_client: Any, stripe: Any) -> None:
    out = member_client.post("/api/checkout", json=MEMBER).get_json()
    res = requests.post(out["url"], data={"card_number": "4242424242424242"}, allow_redirects=False, timeout=10)
    assert res.status_code == 303 and "/account?checkout=success" in res.headers["Location"]
    session = stripe.v1.checkout.sessions.retrieve(out["stripe_session_id"])
    assert session.status == "complete" and session.payment_status == "paid"
    sub = stripe.v1.subscriptions.retrieve(session.subscription)
    assert sub.status == "active" and sub.metadata["stream"] == "membership"


def test_one_time_donation_with_fees_tribute_and_anonymity(member_client: Any, stripe: Any) -> None:
    body = {"plan": "one-time-gift", "currency": "usd", "amount": "25.00", "cover_fees": True,
            "tribute": {"kind": "memory", "name": "Grandma Jo"}, "anonymous": True, "message": "For the newsroom"}
    res = member_client.post("/api/checkout", json=body)
    assert res.status_code == 201, res.get_json()
    out = res.get_json()
    # ceil((2500 + 30) / 0.971) = 2606: the newsroom keeps 2500 after 2.9% + 30
    assert (out["amount_minor"], out["fee_cover_minor"], out["mode"]) == (2606, 106, "payment")
    session = stripe.v1.checkout.sessions.retrieve(out["stripe_session_id"])
    assert session.amount_total == 2606 and session.submit_type == "donate"
    donation = db.session.scalar(select(Donation).where(Donation.stripe_checkout_session_id == session.id))
    assert donation is not None and donation.anonymous and donation.honoree_name == "Grandma Jo"
    assert donation.tribute_kind.value == "memory" and donation.cover_fees and donation.fee_cover_minor == 106


def test_recurring_gift_pay_what_you_want(member_client: Any, stripe: Any) -> None:
    body = {"plan": "recurring-gift", "currency": "EUR", "interval": "month", "amount": "7.50",
            "accept_auto_renewal": True}
    out = member_client.post("/api/checkout", json=body).get_json()
    items = stripe.v1.checkout.sessions.line_items.list(out["stripe_session_id"])
    assert items.data[0].price.unit_amount == 750 and items.data[0].price.recurring.interval == "month"


def test_bad_checkouts_are_4xx_and_change_nothing(member_client: Any, stripe: Any) -> None:
    one_time = db.session.scalar(select(Plan).where(Plan.code == "one-time-gift"))
    assert one_time is not None
    db.session.add(Price(plan_id=one_time.id, currency="JPY", interval=Interval.ONE_TIME, amount_minor=None,
                         min_amount_minor=500))
    db.session.commit()
    gift = {"plan": "one-time-gift", "currency": "USD"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**gift, "amount": "4.99"}, "/amount"),
        ({**gift, "amount": "10000.01"}, "/amount"),
        ({**gift, "amount": "-5"}, "/amount"),
        ({**gift, "amount": 25}, "/amount"),
        ({**gift, "currency": "XYZ", "amount": "10"}, "/currency"),
        ({**gift, "currency": "GBP", "amount": "10"}, "/currency"),
        ({**gift, "currency": "JPY", "amount": "1000.5"}, "/amount"),
        ({**gift, "amount": "10", "tip": 1}, "/tip"),
        ({**MEMBER, "accept_auto_renewal": False}, "/accept_auto_renewal"),
        ({**MEMBER, "amount": "1.00"}, "/amount"),
        ({**MEMBER, "cover_fees": True}, "/cover_fees"),
        ({**MEMBER, "plan": "platinum"}, "/plan"),
        ({**MEMBER, "interval": "week"}, "/interval"),
    ]
    for body, pointer in cases:
        res = member_client.post("/api/checkout", json=body)
        assert res.status_code == 422, (body, res.get_json())
        assert res.get_json()["errors"][0]["pointer"] == pointer, (body, res.get_json())
    assert member_client.post("/api/checkout", json={**gift, "currency": "JPY", "amount": "1000"}).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(CheckoutSession)) == 1


def test_checkout_needs_session_and_csrf(member_client: Any, app: Any) -> None:
    token = member_client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    assert member_client.post("/api/checkout", json=MEMBER).status_code == 403
    member_client.environ_base["HTTP_X_CSRF_TOKEN"] = token
    assert app.test_client().post("/api/checkout", json=MEMBER).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(CheckoutSession)) == 0


def test_existing_member_cannot_buy_a_second_membership(member_client: Any) -> None:
    reader = _reader(member_client)
    now = utcnow()
    db.session.add(Subscription(reader_id=reader.id, stripe_subscription_id="sub_local_only", stream=Stream.MEMBERSHIP,
                                status=SubscriptionStatus.ACTIVE, unit_amount_minor=1000, currency="USD",
                                interval=Interval.MONTH, stripe_created_at=now))
    db.session.commit()
    res = member_client.post("/api/checkout", json=MEMBER)
    assert res.status_code == 409


def test_checkout_is_rate_limited_per_reader(member_client: Any, app: Any) -> None:
    app.config["RATELIMIT_CHECKOUT_PER_READER"] = "2/hour"
    try:
        codes = [member_client.post("/api/checkout", json=MEMBER).status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        limited = member_client.post("/api/checkout", json=MEMBER)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    finally:
        app.config.pop("RATELIMIT_CHECKOUT_PER_READER")
