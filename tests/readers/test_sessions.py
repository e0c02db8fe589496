"""Server-side sessions: sign-out ends a copied cookie, idle and absolute limits, and the
recent-sign-in rule for erasure, all through HTTP as a browser would see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from membership.db import utcnow
from membership.extensions import db
from membership.identity.models import Reader, ReaderSession
from membership.mail.models import Notice
from tests.readers.helpers import last_link, new_client, sign_up_and_confirm, token_of, unique_email


def _copy_cookie(app: Flask, source: FlaskClient) -> FlaskClient:
    cookie = source.get_cookie("session")
    assert cookie is not None
    thief = new_client(app)
    thief.set_cookie("session", cookie.value)
    return thief


def _age(reader_id: int, **values: Any) -> None:
    db.session.execute(update(ReaderSession).where(ReaderSession.reader_id == reader_id).values(**values))


def test_copied_cookie_stops_working_after_sign_out(rclient: FlaskClient, app: Flask) -> None:
    sign_up_and_confirm(rclient)
    copy = _copy_cookie(app, rclient)
    assert copy.get("/api/me").status_code == 200
    assert rclient.post("/api/signout").status_code == 200
    res = copy.get("/api/me")
    assert res.status_code == 401 and res.mimetype == "application/problem+json"


def test_copied_cookie_stops_working_after_page_sign_out(rclient: FlaskClient, app: Flask) -> None:
    out = sign_up_and_confirm(rclient)
    copy = _copy_cookie(app, rclient)
    assert rclient.post("/account/signout", data={"csrf_token": out["csrf_token"]}).status_code == 303
    assert copy.get("/api/me").status_code == 401
    assert copy.get("/account").status_code == 303


def test_sign_out_ends_only_this_browser(rclient: FlaskClient, app: Flask) -> None:
    email = unique_email()
    sign_up_and_confirm(rclient, email)
    other = new_client(app)
    other.post("/api/signin", json={"email": email})
    assert other.post("/api/signin/verify", json={"token": token_of(last_link(email, "magic_link"))}).status_code == 200
    assert rclient.post("/api/signout").status_code == 200
    assert rclient.get("/api/me").status_code == 401
    assert other.get("/api/me").status_code == 200


def test_idle_for_seven_days_ends_the_session(rclient: FlaskClient) -> None:
    rid = sign_up_and_confirm(rclient)["reader_id"]
    _age(rid, last_seen_at=utcnow() - timedelta(days=6, hours=23))
    assert rclient.get("/api/me").status_code == 200  # and the visit renews the idle clock
    seen = db.session.scalar(select(ReaderSession.last_seen_at).where(ReaderSession.reader_id == rid))
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)
    _age(rid, last_seen_at=utcnow() - timedelta(days=7, seconds=1))
    assert rclient.get("/api/me").status_code == 401


def test_thirty_days_after_sign_in_the_session_ends_however_active(rclient: FlaskClient) -> None:
    rid = sign_up_and_confirm(rclient)["reader_id"]
    _age(rid, created_at=utcnow() - timedelta(days=29, hours=23))
    assert rclient.get("/api/me").status_code == 200
    _age(rid, created_at=utcnow() - timedelta(days=30, seconds=1), last_seen_at=utcnow())
    assert rclient.get("/api/me").status_code == 401


def test_last_seen_is_written_at_most_every_few_minutes(rclient: FlaskClient) -> None:
    rid = sign_up_and_confirm(rclient)["reader_id"]
    recent = utcnow() - timedelta(minutes=2)
    _age(rid, last_seen_at=recent)
    for _ in range(3):
        assert rclient.get("/api/me").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ReaderSession.last_seen_at).where(ReaderSession.reader_id == rid)) == recent


def test_table_holds_no_usable_cookie(rclient: FlaskClient) -> None:
    rid = sign_up_and_confirm(rclient)["reader_id"]
    with rclient.session_transaction() as sess:
        raw = sess["sid"]
        assert "iat" not in sess  # no "issued at" stamp: the row decides
    hashes = list(db.session.scalars(select(ReaderSession.token_hash).where(ReaderSession.reader_id == rid)))
    assert len(hashes) == 1 and raw not in hashes[0]


def test_erasure_needs_a_recent_sign_in_else_mails_a_fresh_link(rclient: FlaskClient, app: Flask) -> None:
    email = unique_email()
    rid = sign_up_and_confirm(rclient, email)["reader_id"]
    _age(rid, created_at=utcnow() - timedelta(minutes=16))
    links_before = db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.email == email, Notice.kind == "magic_link"))
    res = rclient.post("/api/me/erase", json={"confirm": "erase my data"})
    assert res.status_code == 403 and res.mimetype == "application/problem+json"
    assert res.get_json()["type"] == "/problems/reauthentication-required"
    assert "emailed you a fresh sign-in link" in res.get_json()["detail"]
    db.session.expire_all()
    reader = db.session.get(Reader, rid)
    assert reader is not None and reader.deleted_at is None
    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.email == email, Notice.kind == "magic_link")) == (links_before or 0) + 1
    fresh = rclient.post("/api/signin/verify", json={"token": token_of(last_link(email, "magic_link"))})
    assert fresh.status_code == 200
    rclient.environ_base["HTTP_X_CSRF_TOKEN"] = fresh.get_json()["csrf_token"]
    assert rclient.post("/api/me/erase", json={"confirm": "erase my data"}).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ReaderSession).where(
        ReaderSession.reader_id == rid)) == 0


def test_a_new_sign_in_on_the_same_browser_ends_the_old_session(rclient: FlaskClient, app: Flask) -> None:
    email = unique_email()
    rid = sign_up_and_confirm(rclient, email)["reader_id"]
    copy = _copy_cookie(app, rclient)
    rclient.post("/api/signin", json={"email": email})
    assert rclient.post("/api/signin/verify", json={"token": token_of(last_link(email, "magic_link"))}).status_code == 200
    assert copy.get("/api/me").status_code == 401
    live = db.session.scalar(select(func.count()).select_from(ReaderSession).where(
        ReaderSession.reader_id == rid, ReaderSession.revoked_at.is_(None)))
    assert live == 1
