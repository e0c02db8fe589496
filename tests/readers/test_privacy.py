"""Newsletter preferences, data export and erasure (Stripe side checked in the simulator)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select

from membership.billing.models import Subscription, WebhookEvent
from membership.db import utcnow
from membership.extensions import db
from membership.identity.models import Consent, LoginToken, Reader
from membership.mail.models import BounceEvent
from membership.newsletters.models import Campaign, Delivery, NewsletterSubscription
from tests.factories.newsletters import NewsletterFactory
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


def _event(event_id: str, obj: dict[str, Any], kind: str = "checkout.session.completed") -> WebhookEvent:
    payload = {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}
    return WebhookEvent(stripe_event_id=event_id, type=kind, object_id=obj.get("id"), stripe_created=1,
                        payload=json.dumps(payload))


def test_erase_reaches_deliveries_webhook_payloads_and_bounces(member_client: Any, stripe: Any) -> None:
    me = member_client.get("/api/me").get_json()
    email, rid = me["email"], me["id"]
    customer = stripe.v1.customers.create(params={"email": email, "name": "Ada Reader"}).id
    tag = uuid.uuid4().hex[:8]
    address = {"line1": "1 Reader Lane", "city": "Springfield", "postal_code": "12345", "country": "US"}
    mine = [
        _event("evt_e1" + tag, {"id": "cs_1", "object": "checkout.session", "customer": customer,
                                     "amount_total": 1500, "currency": "usd", "metadata": {"honoree_name": "Grandma Jo"},
                                     "customer_details": {"email": email, "name": "Ada Reader", "address": address}}),
        _event("evt_e2" + tag, {"id": customer, "object": "customer", "email": email.upper(),
                                     "name": "Ada Reader", "phone": "+15551234567", "address": address},
               "customer.updated"),
        _event("evt_e3" + tag, {"id": "ch_1", "object": "charge", "customer": None, "amount": 700,
                                     "receipt_email": email, "billing_details": {"name": "Ada Reader"},
                                     "description": f"gift from {email}"}, "charge.succeeded"),
    ]
    other = _event("evt_o1" + tag, {"id": "cus_other", "object": "customer", "email": "someone@else.org",
                                         "name": "Someone Else"}, "customer.created")
    newsletter = NewsletterFactory()
    campaign = Campaign(newsletter_id=newsletter.id, subject="Hi", body_html="<p>hi</p>")
    db.session.add_all([*mine, other, campaign])
    db.session.flush()
    db.session.add(Delivery(campaign_id=campaign.id, reader_id=rid, email=email, message_id="<m1@x>",
                            last_error=f"550 5.1.1 <{email}>: mailbox full"))
    db.session.add(BounceEvent(email=email, kind="soft_bounce", status_code="4.2.2",
                               diagnostic=f"{email} over quota", reported_at=utcnow()))
    db.session.add(BounceEvent(email="someone@else.org", kind="hard_bounce", reported_at=utcnow()))
    db.session.commit()
    db.session.get(Reader, rid).stripe_customer_id = customer  # type: ignore[union-attr]
    db.session.commit()
    res = member_client.post("/api/me/erase", json={"confirm": "erase my data"})
    assert res.status_code == 200, res.get_json()
    db.session.expire_all()
    erased = f"erased-{rid}@invalid"
    for event in mine:
        stored = db.session.get(WebhookEvent, event.id)
        assert stored is not None
        text = stored.payload.lower()
        for personal in (email.lower(), "ada reader", "reader lane", "555123", "grandma"):
            assert personal not in text, (personal, text)
    first = json.loads(db.session.get(WebhookEvent, mine[0].id).payload)["data"]["object"]  # type: ignore[union-attr]
    assert (first["amount_total"], first["currency"], first["customer"]) == (1500, "usd", customer)
    assert json.loads(db.session.get(WebhookEvent, mine[2].id).payload)["data"]["object"]["amount"] == 700  # type: ignore[union-attr]
    assert db.session.get(WebhookEvent, other.id).payload == other.payload  # type: ignore[union-attr]
    delivery = db.session.scalar(select(Delivery).where(Delivery.reader_id == rid))
    assert delivery is not None and delivery.email == erased and delivery.last_error is None
    assert delivery.message_id == "<m1@x>"
    bounces = list(db.session.scalars(select(BounceEvent).where(BounceEvent.email.in_([email, erased]))))
    assert [(b.email, b.kind, b.diagnostic) for b in bounces] == [(erased, "soft_bounce", None)]
    assert db.session.scalar(select(func.count()).select_from(BounceEvent).where(
        BounceEvent.email == "someone@else.org")) == 1
