"""API keys (CLI, hashed, scopes, revoke) and GET /api/v1/entitlements."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.billing.models import ComplimentaryMembership, GiftMembership
from membership.db import utcnow
from membership.enums import SubscriptionStatus
from membership.extensions import db
from membership.integrations.apikeys import hash_key
from membership.integrations.models import ApiKey
from tests.factories.billing import PlanFactory, PriceFactory, SubscriptionFactory
from tests.factories.readers import ReaderFactory


def cli_key(app: Flask, name: str, *scopes: str) -> str:
    args = ["apikeys", "create", name]
    for scope in scopes:
        args += ["--scope", scope]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    match = re.search(r"key \(shown once\): (mk_\S+)", result.output)
    assert match, result.output
    return match.group(1)


def ask(client: FlaskClient, key: str, **params: Any) -> Any:
    return client.get("/api/v1/entitlements", query_string=params, headers={"Authorization": f"Bearer {key}"})


def test_cli_key_is_shown_once_stored_hashed_and_revocable(app: Flask, client: FlaskClient) -> None:
    key = cli_key(app, "site", "entitlements:read")
    row = db.session.scalar(select(ApiKey).where(ApiKey.name == "site"))
    assert row is not None and row.key_hash == hash_key(key) and key not in str(row.__dict__)
    reader = ReaderFactory()
    db.session.commit()
    assert ask(client, key, email=reader.email).status_code == 200
    again = app.test_cli_runner().invoke(args=["apikeys", "create", "site", "--scope", "entitlements:read"])
    assert again.exit_code == 1 and "exists" in again.output
    listed = app.test_cli_runner().invoke(args=["apikeys", "list"])
    assert "site" in listed.output and key not in listed.output
    revoked = app.test_cli_runner().invoke(args=["apikeys", "revoke", "site"])
    assert revoked.exit_code == 0, revoked.output
    res = ask(client, key, email=reader.email)
    assert res.status_code == 401 and "revoked" in res.get_json()["detail"]


def test_refusals_are_problem_bodies(app: Flask, client: FlaskClient) -> None:
    members_only = cli_key(app, "crm", "members:read")
    key = cli_key(app, "site2", "entitlements:read")
    assert client.get("/api/v1/entitlements?email=a@b.org").status_code == 401
    assert ask(client, "mk_nonsense", email="a@b.org").status_code == 401
    assert ask(client, members_only, email="a@b.org").status_code == 403
    for params in ({}, {"email": "a@b.org", "reader": "1"}, {"reader": "x"}, {"reader": "0"}, {"zzz": "1"}):
        res = ask(client, key, **params)
        assert res.status_code == 422, (params, res.get_json())
        assert res.mimetype == "application/problem+json"
    assert ask(client, key, reader=2**62).status_code == 404
    bad_cli = app.test_cli_runner().invoke(args=["apikeys", "create", "x", "--scope", "everything"])
    assert bad_cli.exit_code != 0


def test_answers_member_tier_until_and_reason(app: Flask, client: FlaskClient) -> None:
    key = cli_key(app, "site3", "entitlements:read")
    now = utcnow()
    gold = PlanFactory(code="gold")
    price = PriceFactory(plan_id=gold.id)
    active = SubscriptionFactory(price_id=price.id)
    trial = SubscriptionFactory(price_id=price.id, status=SubscriptionStatus.TRIALING)
    grace = SubscriptionFactory(price_id=price.id, status=SubscriptionStatus.PAST_DUE, past_due_since=now)
    lapsed = SubscriptionFactory(price_id=price.id, status=SubscriptionStatus.PAST_DUE,
                                 past_due_since=now - timedelta(days=60))
    comp_reader, gift_reader, nobody = ReaderFactory(), ReaderFactory(), ReaderFactory()
    db.session.add(ComplimentaryMembership(reader_id=comp_reader.id, plan_id=gold.id, starts_at=now - timedelta(days=1),
                                           expires_at=now + timedelta(days=30)))
    db.session.add(GiftMembership(purchaser_reader_id=nobody.id, recipient_email="x@y.org", plan_id=gold.id, months=3,
                                  code_hash="h" * 64, amount_minor=3000, currency="USD", status="redeemed",
                                  redeemed_by_reader_id=gift_reader.id, redeemed_at=now - timedelta(days=1),
                                  expires_at=now + timedelta(days=80)))
    db.session.commit()
    cases = [(active.reader_id, "active"), (trial.reader_id, "trial"), (grace.reader_id, "grace"),
             (comp_reader.id, "comp"), (gift_reader.id, "gift")]
    for reader_id, reason in cases:
        body = ask(client, key, reader=reader_id).get_json()
        assert body["member"] is True and body["tier"] == "gold" and body["reason"] == reason, body
        assert body["until"] is not None and body["email"] is None
    for reader_id in (lapsed.reader_id, nobody.id):
        body = ask(client, key, reader=reader_id).get_json()
        assert body == {**body, "member": False, "tier": None, "until": None, "reason": None}
    unknown = ask(client, key, email="never-seen@example.org").get_json()
    assert unknown["member"] is False and unknown["reader_id"] is None


def test_members_read_adds_the_readers_email(app: Flask, client: FlaskClient) -> None:
    key = cli_key(app, "crm2", "entitlements:read", "members:read")
    reader = ReaderFactory()
    db.session.commit()
    body = ask(client, key, email=reader.email.upper()).get_json()
    assert body["email"] == reader.email and body["reader_id"] == reader.id
