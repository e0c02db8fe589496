"""Entitlement tokens: EdDSA JWTs with a kid, verified by PyJWT against the JWKS;
lifetimes capped; keys rotate without breaking tokens still within their lifetime."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from membership.db import utcnow
from membership.extensions import db
from membership.integrations import tokens
from membership.integrations.models import SigningKey
from tests.factories.billing import PlanFactory, PriceFactory, SubscriptionFactory
from tests.support.live import serve


def token_of(client: FlaskClient) -> dict[str, Any]:
    res = client.get("/api/session/entitlement-token")
    assert res.status_code == 200, res.get_json()
    assert "no-store" in res.headers["Cache-Control"]
    body: dict[str, Any] = res.get_json()
    return body


def verify(client: FlaskClient, token: str) -> dict[str, Any]:
    """As a site would: the JWKS, the key named by the token's kid, EdDSA only."""
    res = client.get("/.well-known/jwks.json")
    assert res.headers["Access-Control-Allow-Origin"] == "*"
    keyset = jwt.PyJWKSet.from_dict(res.get_json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keyset.keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["EdDSA"], options={"require": ["exp", "tier"]})
    return claims


def test_token_carries_tier_and_exp_and_verifies_over_http(app: Flask, member_client: FlaskClient) -> None:
    body = token_of(member_client)
    claims = verify(member_client, body["token"])
    assert claims["member"] is False and claims["tier"] == "none"
    reader_id = int(claims["sub"])
    price = PriceFactory(plan_id=PlanFactory(code="supporter").id)
    SubscriptionFactory(reader_id=reader_id, price_id=price.id)
    db.session.commit()
    body = token_of(member_client)
    claims = verify(member_client, body["token"])
    assert claims["member"] is True and claims["tier"] == "supporter" and claims["reason"] == "active"
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    with serve(app) as base:  # the site's own client fetching the JWKS over HTTP
        signing = jwt.PyJWKClient(f"{base}/.well-known/jwks.json").get_signing_key_from_jwt(body["token"])
        assert jwt.decode(body["token"], signing.key, algorithms=["EdDSA"])["tier"] == "supporter"


def test_reader_session_required(client: FlaskClient) -> None:
    res = client.get("/api/session/entitlement-token")
    assert res.status_code == 401 and res.mimetype == "application/problem+json"


def test_rotation_keeps_old_tokens_valid_until_they_expire(app: Flask, member_client: FlaskClient) -> None:
    old = token_of(member_client)["token"]
    result = app.test_cli_runner().invoke(args=["apikeys", "rotate-signing-key"])
    assert result.exit_code == 0, result.output
    new = token_of(member_client)["token"]
    old_kid, new_kid = jwt.get_unverified_header(old)["kid"], jwt.get_unverified_header(new)["kid"]
    assert old_kid != new_kid
    assert verify(member_client, old)["sub"] == verify(member_client, new)["sub"]
    # the old key leaves the JWKS once every token it signed has expired
    db.session.execute(update(SigningKey).where(SigningKey.kid == old_kid).values(
        publish_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    kids = {k["kid"] for k in member_client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert new_kid in kids and old_kid not in kids
    retired = db.session.scalar(select(SigningKey).where(SigningKey.kid == old_kid))
    assert retired is not None and retired.retired_at is not None


@pytest.mark.parametrize("minutes,expected", [(5, 5), (600, 600), (100_000, 24 * 60), (0, 1)])
def test_lifetime_is_minutes_to_hours_never_over_a_day(app: Flask, minutes: int, expected: int) -> None:
    extra = app.config["SETTINGS"].extra
    extra["entitlement_token_minutes"] = minutes
    try:
        with app.app_context():
            assert tokens.lifetime() == timedelta(minutes=expected)
    finally:
        extra.pop("entitlement_token_minutes")


def test_private_keys_are_sealed(member_client: FlaskClient) -> None:
    token_of(member_client)
    row = db.session.scalars(select(SigningKey)).first()
    assert row is not None and "d" not in row.public_jwk and row.private_sealed.startswith("gAAAA")
