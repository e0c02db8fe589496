from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from membership.extensions import db
from membership.identity.models import Consent, ConsentKind, LoginToken, Reader
from membership.mail.models import Notice
from membership.newsletters.models import NewsletterSubscription, OptInStatus
from tests.readers.helpers import last_link, new_client, sign_up_and_confirm, token_of, unique_email


def test_signup_creates_unverified_reader_with_consents_and_pending_optins(rclient: Any) -> None:
    email = unique_email()
    res = rclient.post("/api/signup", json={"email": email.upper(), "name": "Ada", "accept_terms": True,
                                            "newsletters": ["daily", "weekly"], "marketing": True,
                                            "source": "homepage"})
    assert res.status_code == 202
    reader = db.session.scalar(select(Reader).where(Reader.email == email))
    assert reader is not None and reader.email_verified_at is None
    kinds = {c.kind: c for c in db.session.scalars(select(Consent).where(Consent.reader_id == reader.id))}
    assert set(kinds) == {ConsentKind.TERMS, ConsentKind.NEWSLETTER, ConsentKind.MARKETING}
    assert kinds[ConsentKind.TERMS].ip and kinds[ConsentKind.TERMS].user_agent == "pytest-reader/1.0"
    assert kinds[ConsentKind.TERMS].source == "homepage"
    subs = list(db.session.scalars(select(NewsletterSubscription).where(NewsletterSubscription.reader_id == reader.id)))
    assert [s.status for s in subs] == [OptInStatus.PENDING] * 2
    link = last_link(email, "confirm_signup")
    assert link.startswith("http://localhost/confirm/")
    stored = db.session.scalars(select(LoginToken.token_hash).where(LoginToken.reader_id == reader.id)).all()
    assert token_of(link) not in stored and len(stored) == 1  # only the hash is kept


def test_confirm_verifies_confirms_optins_and_signs_in(rclient: Any) -> None:
    email = unique_email()
    out = sign_up_and_confirm(rclient, email, newsletters=["daily"])
    reader = db.session.get(Reader, out["reader_id"])
    assert reader is not None and reader.email_verified_at is not None
    sub = db.session.scalar(select(NewsletterSubscription).where(NewsletterSubscription.reader_id == reader.id))
    assert sub is not None and sub.status == OptInStatus.CONFIRMED and sub.confirm_ip
    assert rclient.get("/api/me").get_json()["email"] == email
    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.kind == "welcome", Notice.reader_id == reader.id)) == 1


def test_same_answer_for_existing_and_new_addresses(rclient: Any, app: Flask) -> None:
    email = unique_email()
    sign_up_and_confirm(rclient, email)
    other = new_client(app)
    known = other.post("/api/signup", json={"email": email, "accept_terms": True})
    unknown = other.post("/api/signup", json={"email": unique_email(), "accept_terms": True})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    # the owner of the known address gets a sign-in link, and no second reader exists
    assert last_link(email, "magic_link").startswith("http://localhost/signin/")
    assert db.session.scalar(select(func.count()).select_from(Reader).where(Reader.email == email)) == 1
    s1 = other.post("/api/signin", json={"email": email})
    s2 = other.post("/api/signin", json={"email": unique_email()})
    assert s1.status_code == s2.status_code == 202 and s1.get_json() == s2.get_json()


def test_confirm_token_is_single_use(rclient: Any, app: Flask) -> None:
    email = unique_email()
    rclient.post("/api/signup", json={"email": email, "accept_terms": True})
    token = token_of(last_link(email, "confirm_signup"))
    assert rclient.post("/api/signup/confirm", json={"token": token}).status_code == 200
    again = new_client(app).post("/api/signup/confirm", json={"token": token})
    assert again.status_code == 410
    assert again.mimetype == "application/problem+json"


def test_bad_signups_are_422_and_change_nothing(rclient: Any) -> None:
    before = db.session.scalar(select(func.count()).select_from(Reader))
    cases: list[Any] = [
        {"email": "not-an-email", "accept_terms": True},
        {"email": "Ann <ann@news-reader.org>", "accept_terms": True},
        {"email": "用户@news-reader.org", "accept_terms": True},
        {"email": "ann@localhost", "accept_terms": True},
        {"email": unique_email(), "accept_terms": False},
        {"email": unique_email()},
        {"email": unique_email(), "accept_terms": True, "admin": True},
        {"email": unique_email(), "accept_terms": "true"},
        {"email": unique_email(), "accept_terms": True, "newsletters": ["no-such-letter"]},
        {"email": unique_email(), "accept_terms": True, "name": 5},
        {"email": unique_email(), "accept_terms": True, "name": "nul\u0000byte"},
        ["not", "an", "object"],
    ]
    for body in cases:
        res = rclient.post("/api/signup", json=body)
        assert res.status_code == 422, (body, res.get_json())
        problem = res.get_json()
        assert problem["status"] == 422 and problem["errors"], problem
    assert rclient.post("/api/signup", data="{", content_type="application/json").status_code == 400
    assert rclient.post("/api/signup", data="email=x", content_type="text/plain").status_code == 415
    assert db.session.scalar(select(func.count()).select_from(Reader)) == before
    extra = {"email": unique_email(), "accept_terms": True, "admin": True}
    assert json.loads(rclient.post("/api/signup", json=extra).data)["errors"][0]["pointer"] == "/admin"


def test_internationalised_domain_is_stored_mailable(rclient: Any) -> None:
    assert rclient.post("/api/signup", json={"email": "Ann@Bücher.example.org", "accept_terms": True}).status_code == 202
    assert db.session.scalar(select(Reader).where(Reader.email == "ann@xn--bcher-kva.example.org")) is not None
