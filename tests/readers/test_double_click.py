"""A double click, for real: two concurrent checkout requests on a real HTTP server
(threads, separate DB transactions, committed) make one Stripe customer and one
Checkout Session, and both answers point at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from membership.billing.gateway import stripe_client
from membership.billing.models import CheckoutSession
from membership.demo import seed_catalogue
from membership.extensions import db
from membership.identity.models import Reader
from tests.readers.helpers import last_link, token_of, unique_email
from tests.support.live import serve

MEMBER = {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True}


@pytest.fixture
def base_url(app: Flask, committed_db: None, stripe_sim: Any) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_double_click_makes_one_customer_and_one_session(base_url: str, attempt: int) -> None:
    seed_catalogue()
    db.session.commit()
    email = unique_email("dbl")
    with requests.Session() as http:
        assert http.post(f"{base_url}/api/signup", json={"email": email, "accept_terms": True}).status_code == 202
        db.session.rollback()
        res = http.post(f"{base_url}/api/signup/confirm", json={"token": token_of(last_link(email, "confirm_signup"))})
        assert res.status_code == 200
        headers = {"X-CSRF-Token": res.json()["csrf_token"]}
        barrier = threading.Barrier(2)
        answers: list[requests.Response] = []

        def click() -> None:
            barrier.wait()
            answers.append(http.post(f"{base_url}/api/checkout", json=MEMBER, headers=headers, timeout=30))

        threads = [threading.Thread(target=click) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    assert answers[0].json()["stripe_session_id"] == answers[1].json()["stripe_session_id"]
    db.session.rollback()
    reader = db.session.scalar(select(Reader).where(Reader.email == email))
    assert reader is not None and reader.stripe_customer_id
    assert db.session.scalar(select(func.count()).select_from(CheckoutSession).where(
        CheckoutSession.reader_id == reader.id)) == 1
    customers = stripe_client().v1.customers.list(params={"email": email, "limit": 10}).data
    assert [c.id for c in customers] == [reader.stripe_customer_id]
