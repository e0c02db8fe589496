"""Members through the test client: search at its limits, the member's page, and the
actions. Refunds and cancellations go to stripe_sim through the real SDK and come back
through the real webhook pipeline (tests/ledger/money_support.feed)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from membership.billing.gateway import stripe_client
from membership.billing.models import ComplimentaryMembership, Payment, Refund, Subscription
from membership.db import utcnow
from membership.demo import seed_catalogue
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice
from membership.staff.models import AuditLog
from tests.billing.webhook_support import latest_event_id, make_reader, sim_customer
from tests.console.auth_support import csrf
from tests.console.helpers import sign_in_client, staff_user
from tests.ledger.money_support import catalogue_price, feed

REQUEST_ID = re.compile(r'name="request_id" value="([^"]+)"')


def _paying_member(client: FlaskClient, amount: int = 1000) -> tuple[Reader, Payment, Any]:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(amount)
    mark = latest_event_id()
    stripe_client().v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price.id}], "default_payment_method": "pm_card_visa",
        "metadata": {"reader_id": str(reader.id)}})
    feed(client, mark)
    payment = db.session.scalars(select(Payment).where(Payment.reader_id == reader.id)).one()
    return reader, payment, customer


def _request_id(client: FlaskClient, reader_id: int) -> str:
    page = client.get(f"/staff/members/{reader_id}")
    assert page.status_code == 200
    found = REQUEST_ID.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


def test_search_by_email_name_and_stripe_id_with_a_limit(client: FlaskClient) -> None:
    sign_in_client(client, staff_user(StaffRole.SUPPORT))
    ani = Reader(email="ani.petrosyan@example.org", name="Ani Petrosyan", stripe_customer_id="cus_AniTest1")
    db.session.add(ani)
    db.session.add_all(Reader(email=f"bulk{n:03d}@example.net", name=f"Bulk Reader {n}") for n in range(60))
    db.session.commit()
    for query in ("ani.petros", "ANI.PETROSYAN@", "petrosyan", "cus_AniTest", "Ani Petro"):
        html = client.get("/staff/members", query_string={"q": query}).get_data(as_text=True)
        assert f'/staff/members/{ani.id}"' in html, query
    many = client.get("/staff/members", query_string={"q": "bulk"}).get_data(as_text=True)
    assert "50+ readers found" in many and many.count('<a href="/staff/members/') == 50
    none = client.get("/staff/members", query_string={"q": "100%_\\"})
    assert none.status_code == 200 and "No reader found" in none.get_data(as_text=True)


def test_support_refunds_part_of_a_payment_once_and_the_ledger_follows(client: FlaskClient, stripe_sim: Any) -> None:
    sign_in_client(client, staff_user(StaffRole.SUPPORT))
    reader, payment, customer = _paying_member(client, 1000)
    req = _request_id(client, reader.id)
    url = f"/staff/members/{reader.id}/payments/{payment.id}/refund"
    form = {"csrf_token": csrf(client), "request_id": req, "amount": "4.00", "reason": "requested_by_customer"}
    mark = latest_event_id()
    first = client.post(url, data=form)
    assert first.status_code == 303, first.get_data(as_text=True)
    double = client.post(url, data=form)  # the double click: same request id, same idempotency key
    assert double.status_code == 303
    refunds = stripe_client().v1.refunds.list(params={"charge": payment.stripe_charge_id}).data
    assert [r.amount for r in refunds] == [400]
    assert db.session.scalars(select(Refund)).all() == []  # nothing posted locally: the webhook does it
    feed(client, mark, {customer.id, payment.stripe_charge_id, refunds[0].id})
    row = db.session.scalars(select(Refund).where(Refund.payment_id == payment.id)).one()
    assert (row.amount_minor, row.status) == (400, "succeeded")
    page = client.get(f"/staff/members/{reader.id}").get_data(as_text=True)
    assert "$4.00 succeeded" in page and "$6.00" in page  # refunded, and what is left to refund
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "console.refund")).all()
    form = entries[0].details["form"]
    assert len(entries) == 2 and isinstance(form, dict) and form["amount"] == "4.00"


def test_a_refund_over_what_is_left_is_refused_and_changes_nothing(client: FlaskClient, stripe_sim: Any) -> None:
    sign_in_client(client, staff_user(StaffRole.ADMIN))
    reader, payment, _customer = _paying_member(client, 1000)
    url = f"/staff/members/{reader.id}/payments/{payment.id}/refund"
    for amount, message in (("10.01", "At most $10.00"), ("-1", "more than zero"), ("ten", "as a number"),
                            ("1e400", "At most $10.00"), ("0.001", "as a number")):
        resp = client.post(url, data={"csrf_token": csrf(client), "request_id": _request_id(client, reader.id),
                                      "amount": amount, "reason": ""})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), amount
    missing = client.post(url, data={"csrf_token": csrf(client), "amount": "1"})
    assert missing.status_code == 422 and "request id" in missing.get_data(as_text=True)
    assert stripe_client().v1.refunds.list(params={"charge": payment.stripe_charge_id}).data == []
    other = make_reader()
    assert client.post(f"/staff/members/{other.id}/payments/{payment.id}/refund",
                       data={"csrf_token": csrf(client), "request_id": "x" * 20}).status_code == 404


def test_cancel_at_period_end_then_now(client: FlaskClient, stripe_sim: Any) -> None:
    sign_in_client(client, staff_user(StaffRole.SUPPORT))
    reader, _payment, _customer = _paying_member(client)
    sub = db.session.scalars(select(Subscription).where(Subscription.reader_id == reader.id)).one()
    url = f"/staff/members/{reader.id}/subscriptions/{sub.id}/cancel"
    later = client.post(url, data={"csrf_token": csrf(client), "request_id": _request_id(client, reader.id),
                                   "when": "period_end"})
    assert later.status_code == 303
    db.session.refresh(sub)
    assert sub.cancel_at_period_end and sub.status.value == "active"
    now = client.post(url, data={"csrf_token": csrf(client), "request_id": _request_id(client, reader.id),
                                 "when": "now"})
    assert now.status_code == 303
    db.session.refresh(sub)
    assert sub.status.value == "canceled"
    again = client.post(url, data={"csrf_token": csrf(client), "request_id": _request_id(client, reader.id),
                                   "when": "now"})
    assert again.status_code == 409 and "already ended" in again.get_data(as_text=True)


def test_comp_extend_receipt_and_sign_in_link(client: FlaskClient, stripe_sim: Any) -> None:
    support = staff_user(StaffRole.SUPPORT)
    sign_in_client(client, support)
    reader, payment, _customer = _paying_member(client)
    seed_catalogue()
    db.session.commit()
    base = f"/staff/members/{reader.id}"
    bad = client.post(f"{base}/comps", data={"csrf_token": csrf(client), "plan": "member", "days": "0", "reason": ""})
    assert bad.status_code == 422 and "between 1 and" in bad.get_data(as_text=True)
    assert client.post(f"{base}/comps", data={"csrf_token": csrf(client), "plan": "member", "days": "30",
                                              "reason": "press"}).status_code == 303
    comp = db.session.scalars(select(ComplimentaryMembership).where(ComplimentaryMembership.reader_id == reader.id)).one()
    before = comp.expires_at
    assert client.post(f"{base}/comps/{comp.id}/extend", data={"csrf_token": csrf(client), "days": "10"}
                       ).status_code == 303
    db.session.refresh(comp)
    assert comp.expires_at - before == timedelta(days=10)

    assert client.post(f"{base}/payments/{payment.id}/receipt",
                       data={"csrf_token": csrf(client), "request_id": _request_id(client, reader.id)}).status_code == 303
    receipts = db.session.scalars(select(Notice).where(Notice.kind == "payment_receipt",
                                                       Notice.reader_id == reader.id)).all()
    assert len(receipts) == 2
    assert client.post(f"{base}/signin-link", data={"csrf_token": csrf(client)}).status_code == 303
    assert db.session.scalars(select(Notice).where(Notice.kind == "magic_link", Notice.reader_id == reader.id)).one()
    page = client.get(base).get_data(as_text=True)
    for shown in ("comp.extend", "console.resend_receipt", "payment receipt", "press"):
        assert shown in page, shown


def test_erase_is_admin_only_and_needs_the_address_typed(client: FlaskClient) -> None:
    reader = Reader(email="leaving@example.org", name="Leaving Reader")
    db.session.add(reader)
    db.session.commit()
    support = FlaskClient(client.application, use_cookies=True)
    sign_in_client(support, staff_user(StaffRole.SUPPORT))
    assert support.post(f"/staff/members/{reader.id}/erase",
                        data={"csrf_token": csrf(support), "confirm_email": reader.email}).status_code == 403
    sign_in_client(client, staff_user(StaffRole.ADMIN))
    wrong = client.post(f"/staff/members/{reader.id}/erase", data={"csrf_token": csrf(client), "confirm_email": "x"})
    assert wrong.status_code == 422 and "Type the reader" in wrong.get_data(as_text=True)
    db.session.refresh(reader)
    assert reader.deleted_at is None
    assert client.post(f"/staff/members/{reader.id}/erase",
                       data={"csrf_token": csrf(client), "confirm_email": "LEAVING@example.org "}).status_code == 303
    db.session.refresh(reader)
    assert reader.deleted_at is not None and reader.email.endswith("@invalid")


def test_finance_reads_a_member_without_action_forms(client: FlaskClient) -> None:
    reader = Reader(email="read-only@example.org", name="Read Only")
    db.session.add(reader)
    db.session.commit()
    sign_in_client(client, staff_user(StaffRole.FINANCE))
    html = client.get(f"/staff/members/{reader.id}").get_data(as_text=True)
    assert "read-only@example.org" in html and "/erase" not in html and "signin-link" not in html
    assert "Grant a comp" not in html
    assert client.get("/staff/members/99999999").status_code == 404
    assert client.get(f"/staff/members/{reader.id}?x={'a' * 3000}").status_code == 200
    assert utcnow()  # the clock is aware (the page printed UTC times)
