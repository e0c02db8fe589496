"""/gift and /redeem through the Flask test client: bad input as a 400 form that creates
nothing, a gift that reaches Checkout with its delivery date, the recipient's notice due
on that day, and who gets the membership when the code is redeemed."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.billing import gifts
from membership.billing.models import CheckoutSession, GiftMembership, Plan
from membership.db import utcnow
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice
from tests.readers.helpers import unique_email


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) or 0
                 for m in (Reader, GiftMembership, CheckoutSession))


def _post(client: FlaskClient, **form: Any) -> Any:
    page = client.get("/gift")
    data = {"csrf_token": _csrf(page.text), "plan": "member", "currency": "USD", "recipient_name": "Anahit",
            "recipient_email": unique_email("to"), "deliver_on": gifts.outlet_today().isoformat(),
            "message": "Happy birthday", "email": unique_email("from"), **form}
    return client.post("/gift", data=data)


def test_the_page_offers_a_year_of_each_tier(rclient: FlaskClient) -> None:
    page = rclient.get("/gift")
    assert page.status_code == 200
    assert "$100.00" in page.text and "$250.00" in page.text
    assert f'value="{gifts.outlet_today().isoformat()}"' in page.text
    assert "€90.00" in rclient.get("/gift?currency=EUR").text


@pytest.mark.parametrize(("form", "field", "says"), [
    ({"deliver_on": (date.today() - timedelta(days=3)).isoformat()}, "deliver_on", "This date has passed"),
    ({"deliver_on": "tomorrow"}, "deliver_on", "Enter a date like"),
    ({"deliver_on": (date.today() + timedelta(days=400)).isoformat()}, "deliver_on", "within the next year"),
    ({"recipient_email": "anahit at example"}, "recipient_email", "Enter an email address like"),
    ({"recipient_email": ""}, "recipient_email", "Enter their email address"),
    ({"recipient_name": ""}, "recipient_name", "Enter the name of the person"),
    ({"plan": "one-time-gift"}, "plan", "Choose a membership."),
    ({"email": "me@"}, "gift-email", "Enter an email address like"),
])
def test_bad_input_is_a_400_form_that_creates_nothing(rclient: FlaskClient, form: dict[str, str], field: str,
                                                      says: str) -> None:
    before = _counts()
    res = _post(rclient, **form)
    assert res.status_code == 400
    assert says in res.text
    assert f'id="{field}-error"' in res.text
    assert _counts() == before


def test_a_gift_to_oneself_is_refused(rclient: FlaskClient) -> None:
    email = unique_email("self")
    before = _counts()
    res = _post(rclient, email=email, recipient_email=email.upper())
    assert res.status_code == 400 and "not yours" in res.text
    assert _counts() == before


def test_a_gift_goes_to_checkout_with_its_delivery_date(rclient: FlaskClient, stripe: Any) -> None:
    day = gifts.outlet_today() + timedelta(days=10)
    recipient = unique_email("to")
    res = _post(rclient, recipient_email=recipient, deliver_on=day.isoformat())
    assert res.status_code == 303, res.text
    gift = db.session.scalars(select(GiftMembership).where(GiftMembership.recipient_email == recipient)).one()
    assert (gift.amount_minor, gift.months, gift.message, gift.status) == (10000, 12, "Happy birthday",
                                                                          "pending_payment")
    session = stripe.v1.checkout.sessions.retrieve(gift.stripe_checkout_session_id)
    assert session.metadata["deliver_on"] == day.isoformat()
    assert res.headers["Location"] == session.url and "/gift/thanks?session_id=" in session.success_url


def _paid_gift(deliver_on: date | None, recipient: str) -> tuple[GiftMembership, str]:
    buyer = Reader(email=unique_email("buyer"), email_verified_at=utcnow())
    db.session.add(buyer)
    db.session.flush()
    plan = db.session.scalars(select(Plan).where(Plan.code == "member")).one()
    gift = GiftMembership(purchaser_reader_id=buyer.id, recipient_email=recipient, recipient_name="Anahit",
                          plan_id=plan.id, months=12, amount_minor=10000, currency="USD",
                          code_hash=gifts.hash_code(gifts.new_code()))
    db.session.add(gift)
    db.session.flush()
    assert gifts.fulfil(gift, deliver_on)
    notice = db.session.scalars(select(Notice).where(Notice.kind == "gift_delivered",
                                                     Notice.dedupe_key == f"gift:{gift.id}")).one()
    from membership.mail.secrets import reveal

    code = reveal(notice.context, "code")
    db.session.commit()
    return gift, code


def test_the_recipient_notice_is_due_on_the_delivery_day(rclient: FlaskClient) -> None:
    later = gifts.outlet_today() + timedelta(days=5)
    gift, _code = _paid_gift(later, unique_email("to"))
    notice = db.session.scalars(select(Notice).where(Notice.dedupe_key == f"gift:{gift.id}")).one()
    assert notice.email == gift.recipient_email
    assert notice.due_at.astimezone(gifts._zone()).date() == later
    assert notice.due_at.astimezone(gifts._zone()).hour == 8
    today_gift, _ = _paid_gift(gifts.outlet_today(), unique_email("to"))
    today_notice = db.session.scalars(select(Notice).where(Notice.dedupe_key == f"gift:{today_gift.id}")).one()
    assert today_notice.due_at <= utcnow()


def _redeem(client: FlaskClient, code: str) -> Any:
    page = client.get(f"/redeem?code={code}")
    assert page.status_code == 200 and f'value="{code}"' in page.text, "the mail's link fills the code in"
    return client.post("/redeem", data={"csrf_token": _csrf(page.text), "code": code})


def test_a_new_recipient_is_created_signed_in_and_a_member(rclient: FlaskClient) -> None:
    recipient = unique_email("to")
    gift, code = _paid_gift(gifts.outlet_today(), recipient)
    res = _redeem(rclient, code)
    assert res.status_code == 303 and res.headers["Location"].endswith("/account?notice=gift")
    reader = db.session.scalars(select(Reader).where(Reader.email == recipient)).one()
    db.session.refresh(gift)
    assert (gift.status, gift.redeemed_by_reader_id) == ("redeemed", reader.id)
    account = rclient.get("/account?notice=gift")
    assert account.status_code == 200 and "Gift redeemed" in account.text and "You are a member until" in account.text


def test_a_known_recipient_address_is_not_signed_in_by_a_code(rclient: FlaskClient) -> None:
    recipient = unique_email("known")
    db.session.add(Reader(email=recipient, email_verified_at=utcnow()))
    db.session.commit()
    gift, code = _paid_gift(gifts.outlet_today(), recipient)
    res = _redeem(rclient, code)
    assert res.status_code == 200 and "emailed that address a link" in res.text
    db.session.refresh(gift)
    assert gift.status == "redeemed"
    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.email == recipient, Notice.kind == "magic_link")) == 1
    assert "/signin" in rclient.get("/account").headers["Location"], "not signed in"


@pytest.mark.parametrize("code", ["GIFT-AAAA-BBBB-CCCC-DDDD", "", "x"])
def test_an_unknown_code_is_a_400_form(rclient: FlaskClient, code: str) -> None:
    before = _counts()
    page = rclient.get("/redeem")
    res = rclient.post("/redeem", data={"csrf_token": _csrf(page.text), "code": code})
    assert res.status_code == 400 and 'id="code-error"' in res.text
    assert _counts() == before


def test_a_used_code_is_a_400_form_and_changes_nothing(rclient: FlaskClient, app: Any) -> None:
    from tests.readers.helpers import new_client

    gift, code = _paid_gift(gifts.outlet_today(), unique_email("to"))
    assert _redeem(rclient, code).status_code == 303
    db.session.refresh(gift)
    redeemed = (gift.redeemed_by_reader_id, gift.redeemed_at)
    before = _counts()
    res = _redeem(new_client(app), code)
    assert res.status_code == 400 and "already been used" in res.text
    db.session.refresh(gift)
    assert (gift.redeemed_by_reader_id, gift.redeemed_at) == redeemed and _counts() == before


def test_a_later_delivery_is_sent_by_the_beat_sweeper_on_the_day(rclient: FlaskClient) -> None:
    """Production's path for a later day: `schedule_notices` (beat, every 5 minutes) sweeps
    due pending rows; before the day the row is left alone."""
    from membership.billing.notices.scheduling import sweep_due_notices

    gift, _code = _paid_gift(gifts.outlet_today() + timedelta(days=2), unique_email("to"))
    notice = db.session.scalars(select(Notice).where(Notice.dedupe_key == f"gift:{gift.id}")).one()
    assert notice.id not in sweep_due_notices(utcnow())
    assert notice.id in sweep_due_notices(notice.due_at + timedelta(minutes=6))


def test_a_signed_in_reader_gives_without_an_email_field(member_client: FlaskClient) -> None:
    page = member_client.get("/gift")
    assert 'name="email"' not in page.text
    res = member_client.post("/gift", data={"csrf_token": _csrf(page.text), "plan": "member", "currency": "USD",
                                            "recipient_name": "Anahit", "recipient_email": unique_email("to"),
                                            "deliver_on": gifts.outlet_today().isoformat()})
    assert res.status_code == 303, res.text


def test_a_gift_bought_on_the_armenian_page_reaches_a_new_recipient_in_armenian(
        rclient: FlaskClient, stripe: Any) -> None:
    """The recipient has no reader row (so no stored language): the page's language at purchase
    is kept on the gift and the recipient's mail is written in it."""
    from membership.mail.render import render_notice

    recipient = unique_email("to")
    page = rclient.get("/gift?lang=hy")
    res = rclient.post("/gift?lang=hy", data={
        "csrf_token": _csrf(page.text), "plan": "member", "currency": "USD", "recipient_name": "Անահիտ",
        "recipient_email": recipient, "deliver_on": gifts.outlet_today().isoformat(), "message": "",
        "email": unique_email("from")})
    assert res.status_code == 303, res.text
    gift = db.session.scalars(select(GiftMembership).where(GiftMembership.recipient_email == recipient)).one()
    assert gift.recipient_language == "hy"
    assert gifts.fulfil(gift, gifts.outlet_today())
    notice = db.session.scalars(select(Notice).where(Notice.dedupe_key == f"gift:{gift.id}")).one()
    assert notice.reader_id is None
    rendered = render_notice(notice, rclient.application.config["SETTINGS"])
    assert re.search("[\u0531-\u0587]", rendered.subject), rendered.subject
    english = GiftMembership(purchaser_reader_id=gift.purchaser_reader_id, recipient_email=unique_email("to"),
                             plan_id=gift.plan_id, months=12, amount_minor=10000, currency="USD",
                             code_hash=gifts.hash_code(gifts.new_code()))
    db.session.add(english)
    db.session.flush()
    assert gifts.fulfil(english, gifts.outlet_today())
    plain = db.session.scalars(select(Notice).where(Notice.dedupe_key == f"gift:{english.id}")).one()
    assert not re.search("[\u0531-\u0587]", render_notice(plain, rclient.application.config["SETTINGS"]).subject)
