from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from membership.db import utcnow
from membership.extensions import db
from membership.identity.models import LoginToken
from tests.readers.helpers import last_link, new_client, sign_up_and_confirm, token_of, unique_email


def _sign_in(app: Flask, email: str) -> Any:
    c = new_client(app)
    assert c.post("/api/signin", json={"email": email}).status_code == 202
    res = c.post("/api/signin/verify", json={"token": token_of(last_link(email, "magic_link"))})
    assert res.status_code == 200, res.get_json()
    c.environ_base["HTTP_X_CSRF_TOKEN"] = res.get_json()["csrf_token"]
    return c


def test_magic_link_signs_in_once_and_cookie_is_hardened(rclient: Any, app: Flask) -> None:
    email = unique_email()
    sign_up_and_confirm(rclient, email)
    c = new_client(app)
    c.post("/api/signin", json={"email": email})
    token = token_of(last_link(email, "magic_link"))
    res = c.post("/api/signin/verify", json={"token": token})
    assert res.status_code == 200
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert c.get("/api/me").status_code == 200
    assert new_client(app).post("/api/signin/verify", json={"token": token}).status_code == 410


def test_expired_link_is_refused(rclient: Any, app: Flask) -> None:
    email = unique_email()
    sign_up_and_confirm(rclient, email)
    c = new_client(app)
    c.post("/api/signin", json={"email": email})
    db.session.execute(update(LoginToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    res = c.post("/api/signin/verify", json={"token": token_of(last_link(email, "magic_link"))})
    assert res.status_code == 410
    assert c.get("/api/me").status_code == 401


def test_sign_in_link_lives_fifteen_minutes(rclient: Any) -> None:
    email = unique_email()
    sign_up_and_confirm(rclient, email)
    rclient.post("/api/signin", json={"email": email})
    token = db.session.scalars(select(LoginToken).order_by(LoginToken.id.desc())).first()
    assert token is not None and token.expires_at - token.created_at <= timedelta(minutes=15, seconds=1)


def test_unknown_token_and_missing_csrf(rclient: Any) -> None:
    assert rclient.post("/api/signin/verify", json={"token": "x" * 43}).status_code == 410
    sign_up_and_confirm(rclient)
    token = rclient.environ_base.pop("HTTP_X_CSRF_TOKEN")
    res = rclient.patch("/api/me", json={"name": "Mallory"})
    assert res.status_code == 403
    res = rclient.patch("/api/me", json={"name": "Mallory"}, headers={"X-CSRF-Token": "wrong" + token})
    assert res.status_code == 403
    assert rclient.get("/api/me").get_json()["name"] == "Ada Reader"
    res = rclient.patch("/api/me", json={"name": "Ada L."}, headers={"X-CSRF-Token": token})
    assert res.status_code == 200 and res.get_json()["name"] == "Ada L."


def test_sign_out_everywhere_revokes_older_cookies(rclient: Any, app: Flask) -> None:
    email = unique_email()
    sign_up_and_confirm(rclient, email)
    other = _sign_in(app, email)
    assert other.get("/api/me").status_code == 200
    assert rclient.post("/api/signout-everywhere").status_code == 200
    assert other.get("/api/me").status_code == 401
    assert rclient.get("/api/me").status_code == 401
    again = _sign_in(app, email)
    assert again.get("/api/me").status_code == 200


def test_sign_out_this_browser(rclient: Any) -> None:
    sign_up_and_confirm(rclient)
    assert rclient.post("/api/signout").status_code == 200
    assert rclient.get("/api/me").status_code == 401


def test_rate_limits_per_email_and_ip_with_retry_after(app: Flask, rclient: Any) -> None:
    email = unique_email()
    app.config["RATELIMIT_SIGNIN_PER_EMAIL"] = "2/hour"
    app.config["RATELIMIT_SIGNUP_PER_IP"] = "3/hour"
    try:
        codes = [new_client(app).post("/api/signin", json={"email": email}).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        limited = new_client(app).post("/api/signin", json={"email": email.upper()})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert limited.mimetype == "application/problem+json"
        c = new_client(app)
        codes = [c.post("/api/signup", json={"email": unique_email(), "accept_terms": True}).status_code
                 for _ in range(4)]
        assert codes == [202, 202, 202, 429]
    finally:
        app.config.pop("RATELIMIT_SIGNIN_PER_EMAIL")
        app.config.pop("RATELIMIT_SIGNUP_PER_IP")
