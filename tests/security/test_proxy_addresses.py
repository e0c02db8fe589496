"""Behind the documented proxy, each reader has their own rate-limit bucket and their
own address in the consent evidence (TRUSTED_PROXY_HOPS=1); without trusted hops a
client cannot choose its address by sending X-Forwarded-For."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from membership import create_app
from membership.extensions import db
from membership.identity.models import Consent, Reader

PROXY = "10.255.0.1"


def _address() -> str:
    return "203.0." + ".".join(str(random.randrange(1, 255)) for _ in range(2))


def _sign_up(app: Flask, forwarded_for: str) -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    email = f"proxy-{uuid.uuid4().hex[:10]}@news-reader.org"
    res = client.post("/api/signup", json={"email": email, "name": "Ada", "accept_terms": True},
                      headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"})
    return res.status_code


@pytest.fixture
def behind_proxy(app_settings: dict[str, Any], db_session: Any) -> Iterator[Flask]:
    proxied = create_app(**{**app_settings, "trusted_proxy_hops": 1})
    proxied.config["RATELIMIT_SIGNUP_PER_IP"] = "2/hour"
    with proxied.app_context():
        yield proxied


def test_each_client_behind_the_proxy_has_its_own_bucket_and_evidence(behind_proxy: Flask) -> None:
    first, second = _address(), _address()
    assert [_sign_up(behind_proxy, first) for _ in range(3)] == [202, 202, 429]
    assert _sign_up(behind_proxy, second) == 202  # the proxy's address is not a shared bucket
    consent = db.session.scalars(select(Consent).join(Reader, Reader.id == Consent.reader_id)
                                 .order_by(Consent.id.desc())).first()
    assert consent is not None and consent.ip == second


def test_without_trusted_hops_x_forwarded_for_is_ignored(app: Flask, db_session: Any) -> None:
    app.config["RATELIMIT_SIGNUP_PER_IP"] = "2/hour"
    try:
        # The proxy's address is the client here; rotating the header does not buy new buckets.
        statuses = [_sign_up(app, _address()) for _ in range(3)]
    finally:
        app.config.pop("RATELIMIT_SIGNUP_PER_IP")
    assert statuses == [202, 202, 429]
