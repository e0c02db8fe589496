"""Helpers for reader tests: sign up and sign in through the real API, read links
from the notice rows (the mail engineer's worker sends them; here the row is enough)."""

from __future__ import annotations

import random
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.secrets import reveal

_rng = random.Random()  # per-run random: limiter counters in Redis outlive a test run


def new_client(app: Flask) -> FlaskClient:
    """A test client with its own client IP, so per-IP rate limits of one test do not
    leak into the next (the limiter's Redis counters outlive the rolled-back DB)."""
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10." + ".".join(str(_rng.randrange(256)) for _ in range(3))
    c.environ_base["HTTP_USER_AGENT"] = "pytest-reader/1.0"
    return c


def unique_email(tag: str = "r") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@news-reader.org"


def last_link(email: str, kind: str) -> str:
    notice = db.session.scalars(select(Notice).where(Notice.email == email.lower(), Notice.kind == kind)
                                .order_by(Notice.id.desc())).first()
    assert notice is not None, f"no {kind} notice for {email}"
    return reveal(notice.context, "link")


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def sign_up_and_confirm(client: FlaskClient, email: str | None = None, **extra: Any) -> dict[str, Any]:
    """Sign up, confirm by the mailed link; returns the session body (with csrf_token)."""
    email = email or unique_email()
    body = {"email": email, "name": "Ada Reader", "accept_terms": True, **extra}
    res = client.post("/api/signup", json=body)
    assert res.status_code == 202, res.get_json()
    res = client.post("/api/signup/confirm", json={"token": token_of(last_link(email, "confirm_signup"))})
    assert res.status_code == 200, res.get_json()
    out: dict[str, Any] = res.get_json()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = out["csrf_token"]
    return out


def pay_checkout(client: FlaskClient, body: dict[str, Any], card: str = "4242424242424242") -> dict[str, Any]:
    """Start a checkout through our API and pay it on the simulator's hosted page."""
    import requests

    res = client.post("/api/checkout", json=body)
    assert res.status_code == 201, res.get_json()
    out: dict[str, Any] = res.get_json()
    paid = requests.post(out["url"], data={"card_number": card}, allow_redirects=False, timeout=10)
    assert paid.status_code == 303, paid.text
    return out


def subscribe(client: FlaskClient, body: dict[str, Any]) -> Any:
    """Checkout + pay, then the same re-fetch-and-upsert the webhook worker runs
    (called directly here; the worker path itself is covered by tests/e2e)."""
    from membership.billing.gateway import stripe_client
    from membership.billing.subscriptions import sync_subscription

    out = pay_checkout(client, body)
    session = stripe_client().v1.checkout.sessions.retrieve(out["stripe_session_id"])
    sub = sync_subscription(session.subscription)
    db.session.commit()
    assert sub is not None
    return sub
