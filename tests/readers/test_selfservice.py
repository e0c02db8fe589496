"""Self-service actions: each shows up in Stripe's state (stripe_sim over HTTP) and ours."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.billing.models import Plan, Price
from membership.enums import Interval
from membership.extensions import db
from tests.readers.helpers import new_client, sign_up_and_confirm, subscribe

MEMBER = {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True}


def _price(code: str) -> Price:
    price = db.session.scalar(select(Price).join(Plan).where(Plan.code == code, Price.currency == "USD",
                                                             Price.interval == Interval.MONTH))
    assert price is not None
    return price


def test_cancel_at_period_end_and_resume(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, MEMBER)
    assert member_client.get("/api/me").get_json()["membership"]["active"] is True
    res = member_client.post(f"/api/me/subscriptions/{sub.id}/cancel",
                             json={"reason": "too_expensive", "comment": "money is tight"})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["cancel_at_period_end"] is True
    remote = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote.cancel_at_period_end is True and remote.cancellation_details.feedback == "too_expensive"
    assert member_client.get("/api/me").get_json()["membership"]["active"] is True  # paid period runs on
    res = member_client.post(f"/api/me/subscriptions/{sub.id}/resume")
    assert res.status_code == 200 and res.get_json()["cancel_at_period_end"] is False
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is False


def test_upgrade_now_with_proration_then_downgrade_at_renewal(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, MEMBER)
    sustainer = _price("sustainer")
    res = member_client.post(f"/api/me/subscriptions/{sub.id}/plan", json={"price_id": sustainer.id})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["plan"] == "sustainer" and res.get_json()["amount_minor"] == 2500
    remote = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote["items"].data[0].price.id == sustainer.stripe_price_id
    invoice = stripe.v1.invoices.retrieve(remote.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid" and invoice.amount_paid > 0
    member = _price("member")
    res = member_client.post(f"/api/me/subscriptions/{sub.id}/plan", json={"price_id": member.id})
    assert res.status_code == 200 and res.get_json()["plan"] == "sustainer"  # the paid tier until renewal
    after = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id, params={"expand": ["schedule"]})
    assert after.latest_invoice == remote.latest_invoice  # no charge, no credit: new price from renewal
    phases = after.schedule.phases  # a subscription schedule: the current tier, then member at renewal
    assert [p["items"][0].price for p in phases] == [sustainer.stripe_price_id, member.stripe_price_id]
    assert phases[1].start_date == after["items"].data[0].current_period_end
    eur = db.session.scalar(select(Price).join(Plan).where(Plan.code == "sustainer", Price.currency == "EUR",
                                                           Price.interval == Interval.MONTH))
    assert eur is not None
    assert member_client.post(f"/api/me/subscriptions/{sub.id}/plan", json={"price_id": eur.id}).status_code == 422


def test_change_recurring_gift_amount(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, {"plan": "recurring-gift", "currency": "USD", "interval": "month",
                                    "amount": "5.00", "accept_auto_renewal": True})
    assert sub.stream.value == "recurring_donation"
    assert member_client.get("/api/me").get_json()["membership"]["active"] is False  # gifts are not memberships
    res = member_client.post(f"/api/me/subscriptions/{sub.id}/amount", json={"amount": "12.00"})
    assert res.status_code == 200 and res.get_json()["amount_minor"] == 1200
    remote = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote["items"].data[0].price.unit_amount == 1200
    low = member_client.post(f"/api/me/subscriptions/{sub.id}/amount", json={"amount": "4.00"})
    assert low.status_code == 422
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)["items"].data[0].price.unit_amount == 1200


def test_reader_a_cannot_see_or_change_reader_b(member_client: Any, app: Flask, stripe: Any) -> None:
    sub = subscribe(member_client, MEMBER)
    other = new_client(app)
    sign_up_and_confirm(other)
    for path, body in ((f"/api/me/subscriptions/{sub.id}/cancel", {}), (f"/api/me/subscriptions/{sub.id}/resume", None),
                       (f"/api/me/subscriptions/{sub.id}/plan", {"price_id": _price("sustainer").id}),
                       (f"/api/me/subscriptions/{sub.id}/amount", {"amount": "9.00"})):
        res = other.post(path, json=body) if body is not None else other.post(path)
        assert res.status_code == 404, (path, res.get_json())
    history = other.get("/api/me/billing").get_json()
    assert history["subscriptions"] == [] and other.get("/api/me/export").get_json()["subscriptions"] == []
    remote = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote.cancel_at_period_end is False and remote["items"].data[0].price.unit_amount == 1000


def test_history_and_portal(member_client: Any, stripe: Any, stripe_sim: Any) -> None:
    subscribe(member_client, MEMBER)
    history = member_client.get("/api/me/billing").get_json()
    assert [s["status"] for s in history["subscriptions"]] == ["active"]
    res = member_client.post("/api/me/billing/portal")
    assert res.status_code == 200 and res.get_json()["url"].startswith(stripe_sim.url + "/portal/")
