"""Newsletter preferences, data export and erasure (Stripe side checked in the simulator)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from membership.billing.models import Subscription
from membership.extensions import db
from membership.newsletters.models import NewsletterSubscription
from membership.readers.models import Consent, LoginToken, Reader
from tests.readers.helpers import last_link, sign_up_and_confirm, subscribe, token_of, unique_email

MEMBER = {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True}


def test_newsletter_preferences(rclient: Any) -> None:
    sign_up_and_confirm(rclient, newsletters=["daily"])
    res = rclient.put("/api/me/newsletters", json={"newsletters": ["weekly", "investigations"]})
    assert res.status_code == 200, res.get_json()
    status = {n["slug"]: n["status"] for n in res.get_json()["newsletters"]}
    assert status == {"daily": "unsubscribed", "weekly": "confirmed", "investigations": "confirmed"}
    assert rclient.get("/api/me").get_json()["newsletters"] == ["weekly", "investigations"]
    assert rclient.put("/api/me/newsletters", json={"newsletters": ["nope"]}).status_code == 422
    assert rclient.put("/api/me/newsletters", json={"newsletters": "weekly"}).status_code == 422


def test_export_holds_everything(member_client: Any) -> None:
    subscribe(member_client, MEMBER)
    data = member_client.get("/api/me/export").get_json()
    assert data["reader"]["email"].endswith("@news-reader.org")
    assert {c["kind"] for c in data["consents"]} >= {"terms", "auto_renewal"}
    assert len(data["subscriptions"]) == 1 and len(data["checkouts"]) == 1
    assert {n["kind"] for n in data["notices"]} >= {"confirm_signup", "welcome"}
    assert "token_hash" not in str(data) and "context" not in data["notices"][0]


def test_erase_removes_personal_data_keeps_money_and_redacts_stripe(member_client: Any, stripe: Any) -> None:
    email = member_client.get("/api/me").get_json()["email"]
    sub = subscribe(member_client, MEMBER)
    rid = sub.reader_id
    customer_id = db.session.get(Reader, rid).stripe_customer_id  # type: ignore[union-attr]
    assert member_client.post("/api/me/erase", json={"confirm": "yes"}).status_code == 422
    res = member_client.post("/api/me/erase", json={"confirm": "erase my data"})
    assert res.status_code == 200, res.get_json()
    db.session.expire_all()
    reader = db.session.get(Reader, rid)
    assert reader is not None and reader.email == f"erased-{rid}@invalid" and reader.name == ""
    assert reader.deleted_at is not None
    assert db.session.scalar(select(func.count()).select_from(Subscription).where(Subscription.reader_id == rid)) == 1
    consents = list(db.session.scalars(select(Consent).where(Consent.reader_id == rid)))
    assert consents and all(c.ip is None and c.user_agent is None for c in consents)
    for model in (NewsletterSubscription, LoginToken):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.reader_id == rid)) == 0
    customer = stripe.v1.customers.retrieve(customer_id)
    assert customer.email is None and customer.name is None and customer.metadata["erased"] == "true"
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id).status == "canceled"
    assert member_client.get("/api/me").status_code == 401
    # the address is free again, and a sign-in request for it finds nobody
    member_client.post("/api/signin", json={"email": email})
    assert db.session.scalar(select(func.count()).select_from(LoginToken).where(LoginToken.reader_id == rid)) == 0
    fresh = unique_email()
    member_client.post("/api/signup", json={"email": fresh, "accept_terms": True})
    assert token_of(last_link(fresh, "confirm_signup"))
