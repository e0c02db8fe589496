"""The embedded default, honestly: SQLite database, Celery on the SQLite broker (no
Redis), stripe_sim and the SMTP sink. A reader signs up, gets the confirmation mail from
a real worker, confirms, pays on the hosted Checkout page, Stripe's webhook reaches the
app over HTTP, the worker processes it, and the reader is a member.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from membership.billing.entitlement import is_member
from membership.demo import seed_catalogue
from membership.extensions import db
from membership.identity.models import Reader
from tests.support.live import webhook_target
from tests.support.worker import WorkerProcess, wait_until


@pytest.fixture
def embedded(sqlite_app: Flask, stripe_sim: Any, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The SQLite app on a real HTTP server (the sim's webhook target) and a real worker."""
    s = sqlite_app.config["SETTINGS"]
    env = {"APP_ENV": "test", "DATABASE_URL": s.database_url, "BROKER_URL": s.broker_url, "REDIS_URL": "",
           "CELERY_KEY_PREFIX": "", "STRIPE_API_BASE": s.stripe_api_base, "STRIPE_SECRET_KEY": s.stripe_secret_key,
           "STRIPE_WEBHOOK_SECRET": s.stripe_webhook_secret, "SECRET_KEY": s.secret_key, "SMTP_URL": s.smtp_url, "PUBLIC_URL": s.public_url}
    worker = WorkerProcess(env, concurrency=1, log_path=tmp_path / "worker.log").start()
    try:
        with webhook_target(sqlite_app, stripe_sim) as (base, _):
            yield sqlite_app, base
    finally:
        worker.stop()


def mail_to(mailbox: Any, address: str) -> email.message.EmailMessage | None:
    for received in list(mailbox.messages):
        if address in received.rcpt_tos:
            return email.message_from_bytes(received.data, policy=email.policy.default)  # type: ignore[return-value]
    return None


def test_sign_up_pay_and_become_a_member_on_the_embedded_default(
    embedded: tuple[Flask, str], mailbox: Any, tmp_path: Path
) -> None:
    app, base = embedded
    with app.app_context():
        seed_catalogue()
        db.session.commit()
    http = requests.Session()
    address = "embedded-reader@news-reader.org"
    res = http.post(f"{base}/api/signup", json={"email": address, "name": "Embedded Reader", "accept_terms": True})
    assert res.status_code == 202, res.text

    assert wait_until(lambda: mail_to(mailbox, address) is not None, timeout=60), (tmp_path / "worker.log").read_text()[-3000:]
    message = mail_to(mailbox, address)
    assert message is not None and message["Message-ID"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    token = re.search(r"/confirm/([A-Za-z0-9_\-]+)", body.get_content())
    assert token, body.get_content()

    confirmed = http.post(f"{base}/api/signup/confirm", json={"token": token.group(1)})
    assert confirmed.status_code == 200, confirmed.text
    http.headers["X-CSRF-Token"] = confirmed.json()["csrf_token"]

    offerings = http.get(f"{base}/api/offerings").json()["offerings"]
    assert "member" in {o["code"] for o in offerings}
    checkout = http.post(f"{base}/api/checkout", json={"plan": "member", "currency": "USD", "interval": "month",
                                                           "accept_auto_renewal": True})
    assert checkout.status_code == 201, checkout.text
    paid = requests.post(checkout.json()["url"], data={"card_number": "4242424242424242"}, allow_redirects=False, timeout=10)
    assert paid.status_code == 303, paid.text

    with app.app_context():
        reader_id = db.session.query(Reader.id).filter_by(email=address).scalar()

        def member() -> bool:
            db.session.rollback()
            return is_member(reader_id)

        assert wait_until(member, timeout=60), (tmp_path / "worker.log").read_text()[-3000:]
