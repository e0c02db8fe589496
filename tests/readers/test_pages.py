"""The reader pages: links open a button page (prefetch-safe), every POST needs the CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.extensions import db
from membership.identity.models import Reader
from membership.newsletters.models import NewsletterSubscription, OptInStatus
from tests.readers.helpers import last_link, new_client, sign_up_and_confirm, subscribe, unique_email

MEMBER = {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_confirm_link_page_needs_a_click_and_csrf(rclient: Any, app: Flask) -> None:
    email = unique_email()
    rclient.post("/api/signup", json={"email": email, "accept_terms": True, "newsletters": ["daily"]})
    path = last_link(email, "confirm_signup").removeprefix("http://localhost")
    browser = new_client(app)
    page = browser.get(path)
    assert page.status_code == 200 and b"<form method=\"post\">" in page.data
    reader = db.session.scalar(select(Reader).where(Reader.email == email))
    assert reader is not None and reader.email_verified_at is None  # the GET used nothing up
    assert browser.post(path).status_code == 403
    done = browser.post(path, data={"csrf_token": _csrf(page.text)})
    assert done.status_code == 303 and done.headers["Location"].startswith("/account")
    account = browser.get("/account")
    assert account.status_code == 200 and email in account.text and "not a member" in account.text
    assert browser.post(path, data={"csrf_token": _csrf(account.text)}).status_code == 410


def test_sign_in_by_page(rclient: Any, app: Flask) -> None:
    email = unique_email()
    sign_up_and_confirm(rclient, email)
    browser = new_client(app)
    assert browser.get("/account").status_code == 303
    form = browser.get("/signin")
    sent = browser.post("/signin", data={"email": email, "csrf_token": _csrf(form.text)})
    assert sent.status_code == 202
    bad = browser.post("/signin", data={"email": "nope", "csrf_token": _csrf(form.text)})
    assert bad.status_code == 422
    path = last_link(email, "magic_link").removeprefix("http://localhost")
    page = browser.get(path)
    assert browser.post(path, data={"csrf_token": _csrf(page.text)}).status_code == 303
    account = browser.get("/account")
    assert email in account.text
    out = browser.post("/account/signout-everywhere", data={"csrf_token": _csrf(account.text)})
    assert out.status_code == 303 and browser.get("/account").status_code == 303


def test_account_cancel_and_newsletters_forms(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, MEMBER)
    account = member_client.get("/account")
    assert "You are a member" in account.text
    token = _csrf(account.text)
    member_client.environ_base.pop("HTTP_X_CSRF_TOKEN")  # a plain browser form: only the field
    assert member_client.post(f"/account/subscriptions/{sub.id}/cancel", data={"reason": "unused"}).status_code == 403
    res = member_client.post(f"/account/subscriptions/{sub.id}/cancel", data={"reason": "unused", "csrf_token": token})
    assert res.status_code == 303
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is True
    res = member_client.post("/account/newsletters", data={"newsletters": ["weekly"], "csrf_token": token})
    assert res.status_code == 303
    subs = list(db.session.scalars(select(NewsletterSubscription).where(
        NewsletterSubscription.reader_id == sub.reader_id)))
    assert [s.status for s in subs] == [OptInStatus.CONFIRMED]


def test_account_plan_change_and_gift_forms(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, MEMBER)
    form = member_client.get(f"/account/subscriptions/{sub.id}/plan")
    token = _csrf(form.text)
    choice = re.search(r'value="(\d+)" required>\s*<span>Sustaining member</span><br><span class="price">\$25\.00</span>'
                       r' per month<br>\s*<span class="muted">Starts now', form.text)
    assert choice, form.text
    res = member_client.post(f"/account/subscriptions/{sub.id}/plan",
                             data={"price_id": choice.group(1), "csrf_token": token})
    assert res.status_code == 303
    remote = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote["items"].data[0].price.unit_amount == 2500
    bad = member_client.post(f"/account/subscriptions/{sub.id}/plan", data={"price_id": "x", "csrf_token": token})
    assert bad.status_code == 400 and b"Choose one of the plans below" in bad.data
    res = member_client.post("/account/gifts/redeem", data={"code": "GIFT-AAAA-BBBB-CCCC-DDDD", "csrf_token": token})
    assert res.status_code == 410 and b"<html" in res.data
