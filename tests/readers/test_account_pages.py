"""The account pages through the Flask test client: each change page, bad input as a
clear 4xx page that changes nothing, receipts only for their owner, expired links."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask
from flask_babel import refresh
from sqlalchemy import select

from membership.billing.models import Payment, Plan, Price, Subscription
from membership.enums import Stream
from membership.extensions import db
from membership.identity.models import Reader
from tests.readers.helpers import new_client, sign_up_and_confirm, subscribe

MEMBER = {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True}
SUSTAINER = {**MEMBER, "plan": "sustainer"}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _payment(reader_id: int, gross: int = 2500, stream: Stream = Stream.ONE_TIME_DONATION,
             paid_at: datetime | None = None) -> Payment:
    n = db.session.scalar(select(db.func.count(Payment.id))) or 0
    row = Payment(reader_id=reader_id, stripe_charge_id=f"ch_test_{reader_id}_{n}", stream=stream,
                  balance_transaction_id=f"txn_test_{reader_id}_{n}", gross_minor=gross, fee_minor=100,
                  net_minor=gross - 100, currency="USD", paid_at=paid_at or datetime(2026, 3, 4, 18, tzinfo=UTC))
    db.session.add(row)
    db.session.flush()
    return row


def _in_armenian(client: Any, path: str) -> Any:
    """The test's app context outlives requests, and Flask-Babel caches the locale in
    it: refresh around the request so each one chooses its language again."""
    refresh()
    try:
        return client.get(f"{path}?lang=hy")
    finally:
        client.get("/signin?lang=en")
        refresh()


def _reader_id(client: Any) -> int:
    return int(client.get("/api/me").get_json()["id"])


def test_receipt_is_only_for_its_reader(member_client: Any, app: Flask) -> None:
    mine = _payment(_reader_id(member_client))
    page = member_client.get(f"/account/payments/{mine.id}/receipt")
    assert page.status_code == 200 and "$25.00" in page.text and "March 4, 2026" in page.text
    assert "No goods or services were provided" in page.text
    other = new_client(app)
    sign_up_and_confirm(other)
    theirs = _payment(_reader_id(other), gross=9900)
    refused = member_client.get(f"/account/payments/{theirs.id}/receipt")
    assert refused.status_code == 404 and "$99.00" not in refused.text and "<html" in refused.text
    assert member_client.get("/account/payments/999999/receipt").status_code == 404
    assert new_client(app).get(f"/account/payments/{mine.id}/receipt").status_code == 401


def test_statement_by_year_and_its_links(member_client: Any) -> None:
    rid = _reader_id(member_client)
    _payment(rid, 2500)
    _payment(rid, 1000, paid_at=datetime(2026, 11, 2, 18, tzinfo=UTC))
    _payment(rid, 4000, paid_at=datetime(2025, 6, 1, 18, tzinfo=UTC))
    account = member_client.get("/account")
    assert 'href="/account/statements/2026"' in account.text and 'href="/account/statements/2025"' in account.text
    statement = member_client.get("/account/statements/2026")
    assert statement.status_code == 200 and "Total: $35.00" in statement.text and "$40.00" not in statement.text
    assert member_client.get("/account/statements/1999").status_code == 404
    hy = _in_armenian(member_client, "/account/statements/2026")
    assert "Ընդամենը" in hy.text and "35,00" in hy.text


def test_bad_tier_is_a_400_form_and_changes_nothing(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, MEMBER)
    form = member_client.get(f"/account/subscriptions/{sub.id}/plan")
    token = _csrf(form.text)
    eur = db.session.scalar(select(Price.id).join(Plan).where(Plan.code == "sustainer", Price.currency == "EUR"))
    donation = db.session.scalar(select(Price.id).join(Plan).where(Plan.code == "recurring-gift"))
    for bad in ("x", "", "-1", "99999999", str(eur), str(donation), "1" * 40):
        res = member_client.post(f"/account/subscriptions/{sub.id}/plan", data={"price_id": bad, "csrf_token": token})
        assert res.status_code == 400 and "Choose one of the plans below." in res.text, bad
    remote = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote["items"].data[0].price.unit_amount == 1000 and remote.schedule is None
    assert member_client.get("/account/subscriptions/999999/plan").status_code == 404


def test_downgrade_is_planned_for_renewal_and_can_be_taken_back(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, SUSTAINER)
    form = member_client.get(f"/account/subscriptions/{sub.id}/plan")
    member = re.search(r'value="(\d+)" required>\s*<span>Member</span><br><span class="price">\$10\.00</span>'
                       r' per month<br>\s*<span class="muted">From your next renewal', form.text)
    assert member, form.text
    res = member_client.post(f"/account/subscriptions/{sub.id}/plan",
                             data={"price_id": member.group(1), "csrf_token": _csrf(form.text)})
    assert res.status_code == 303 and "notice=scheduled" in res.headers["Location"]
    account = member_client.get("/account?notice=scheduled")
    assert "Your plan changes at your next renewal" in account.text
    assert re.search(r"your plan will be Member \(\$10\.00 per month\): the change applies at renewal", account.text)
    assert "$25.00" in account.text  # still billed as a sustainer until then
    keep = member_client.post(f"/account/subscriptions/{sub.id}/plan",
                              data={"price_id": str(sub.price_id), "csrf_token": _csrf(form.text)})
    assert "notice=kept" in keep.headers["Location"]
    assert "your plan will be" not in member_client.get("/account").text
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id).schedule is None


def test_bad_gift_amount_is_a_400_form_and_changes_nothing(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, {"plan": "recurring-gift", "currency": "USD", "interval": "month",
                                    "amount": "5.00", "accept_auto_renewal": True})
    form = member_client.get(f"/account/subscriptions/{sub.id}/amount")
    assert form.status_code == 200 and 'for="amount"' in form.text
    for bad in ("", "abc", "0", "-5", "1e9", "12.345", "99999999"):
        res = member_client.post(f"/account/subscriptions/{sub.id}/amount", data={"amount": bad,
                                                                                  "csrf_token": _csrf(form.text)})
        assert res.status_code == 400 and 'aria-invalid="true"' in res.text, bad
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)["items"].data[0].price.unit_amount == 500
    ok = member_client.post(f"/account/subscriptions/{sub.id}/amount", data={"amount": "7.50",
                                                                             "csrf_token": _csrf(form.text)})
    assert ok.status_code == 303
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)["items"].data[0].price.unit_amount == 750
    member = db.session.scalar(select(Subscription).where(Subscription.reader_id == sub.reader_id,
                                                          Subscription.id != sub.id))
    assert member is None
    assert member_client.get(f"/account/subscriptions/{sub.id}/plan").status_code == 400
    heading = f'id="h-sub-{sub.id}">'
    account = member_client.get("/account").text
    assert heading + "Recurring gift</h2>" in account  # not "Recurring gift: Recurring gift"


def test_cancel_in_one_page_then_confirmation_then_resume(member_client: Any, stripe: Any) -> None:
    sub = subscribe(member_client, MEMBER)
    form = member_client.get(f"/account/subscriptions/{sub.id}/cancel")
    assert form.status_code == 200 and 'name="reason"' in form.text and 'name="comment"' in form.text
    res = member_client.post(f"/account/subscriptions/{sub.id}/cancel",
                             data={"reason": "nonsense", "comment": "x" * 5000, "csrf_token": _csrf(form.text)})
    assert res.status_code == 303 and res.headers["Location"].endswith(f"/account/subscriptions/{sub.id}/cancelled")
    done = member_client.get(res.headers["Location"])
    remote = stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote.cancel_at_period_end is True and remote.cancellation_details.feedback == "other"
    assert len(remote.cancellation_details.comment) == 500
    assert "You keep access until" in done.text
    resumed = member_client.post(f"/account/subscriptions/{sub.id}/resume", data={"csrf_token": _csrf(done.text)})
    assert resumed.status_code == 303
    assert stripe.v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is False


def test_update_card_through_the_hosted_setup_page(member_client: Any, stripe: Any) -> None:
    subscribe(member_client, MEMBER)
    account = member_client.get("/account")
    assert "Visa ending in 4242" in account.text
    opened = member_client.post("/account/card", data={"csrf_token": _csrf(account.text)})
    assert opened.status_code == 303
    saved = requests.post(opened.headers["Location"], data={"card_number": "5555555555554444"},
                          allow_redirects=False, timeout=10)
    assert saved.status_code == 303 and "/account/card/saved?session_id=cs_" in saved.headers["Location"]
    back = member_client.get(saved.headers["Location"].split("localhost", 1)[-1])
    assert back.status_code == 303 and "notice=card" in back.headers["Location"]
    assert "Mastercard ending in 4444" in member_client.get("/account").text
    assert member_client.get("/account/card/saved?session_id=cs_notmine").status_code == 404
    assert member_client.get("/account/card/saved?session_id=<script>").status_code == 404


def test_expired_and_used_links_offer_a_new_one(rclient: Any) -> None:
    for path in ("/signin/not-a-token", "/confirm/not-a-token"):
        page = rclient.get(path)
        assert page.status_code == 410 and "Email me a new link" in page.text and 'action="/signin"' in page.text
        used = rclient.post(path, data={"csrf_token": _csrf(page.text)})
        assert used.status_code == 410 and "no longer works" in used.text
    hy = _in_armenian(rclient, "/signin/not-a-token")
    assert hy.status_code == 410 and "Email me a new link" not in hy.text


def test_export_download_and_erasure(member_client: Any, app: Flask) -> None:
    account = member_client.get("/account")
    export = member_client.get("/account/export")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    assert export.get_json()["reader"]["email"] in account.text
    unconfirmed = member_client.post("/account/delete", data={"csrf_token": _csrf(account.text)})
    assert unconfirmed.status_code == 400
    rid = _reader_id(member_client)
    assert db.session.get(Reader, rid).deleted_at is None  # type: ignore[union-attr]
    gone = member_client.post("/account/delete", data={"confirm": "yes", "csrf_token": _csrf(account.text)})
    assert gone.status_code == 200 and "Your data is deleted" in gone.text
    reader = db.session.get(Reader, rid)
    assert reader is not None and reader.deleted_at is not None and reader.email.startswith("erased-")
    assert member_client.get("/account").status_code == 303
