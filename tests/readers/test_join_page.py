"""The join page through the Flask test client: what it shows, and bad input answered
with the form (400) and nothing created, neither here nor at Stripe."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.billing.models import CheckoutSession, Plan, Price
from membership.billing.promotions import forget_intro_offers
from membership.enums import Interval
from membership.extensions import db
from membership.identity.models import Consent, Reader
from tests.readers.helpers import new_client, unique_email


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _price(plan: str = "member", currency: str = "USD", interval: Interval = Interval.MONTH) -> Price:
    price = db.session.scalar(select(Price).join(Plan).where(Plan.code == plan, Price.currency == currency,
                                                             Price.interval == interval))
    assert price is not None
    return price


def _counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Reader.id))) or 0,
            db.session.scalar(select(func.count(CheckoutSession.id))) or 0,
            db.session.scalar(select(func.count(Consent.id))) or 0)


def _post(client: FlaskClient, **form: Any) -> Any:
    page = client.get("/join")
    return client.post("/join", data={"csrf_token": _csrf(page.text), **form})


@pytest.fixture
def promo(stripe: Any) -> str:
    """A code made at Stripe (as in its dashboard), nothing set up here: 20% off once."""
    forget_intro_offers()
    coupon = stripe.v1.coupons.create(params={"percent_off": 20, "duration": "once"})
    code = "SPRING" + uuid.uuid4().hex[:6].upper()
    stripe.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": code})
    return code


def test_the_page_shows_tiers_in_the_chosen_currency_and_interval(rclient: FlaskClient, stripe_sim: Any) -> None:
    forget_intro_offers()
    page = rclient.get("/join?currency=EUR&interval=year")
    assert page.status_code == 200
    html = page.text
    assert "Sustaining member" in html and "€90.00" in html and "€220.00" in html
    assert 'aria-current="true">Yearly' in html.replace("\n", "")
    assert 'for="join-email">Email<' in html and "Promo code" in html and "Continue to payment" in html
    assert rclient.get("/join").text.count("$10.00") >= 1  # USD by default


def test_a_promotion_code_from_the_query_shows_the_discounted_price(rclient: FlaskClient, promo: str) -> None:
    html = rclient.get(f"/join?code={promo.lower()}").text
    assert f"With code {promo}" in html and '<strong class="first-amount">$8.00</strong>' in html


def test_a_trial_shows_on_the_tier(rclient: FlaskClient, stripe_sim: Any) -> None:
    forget_intro_offers()
    price = _price()
    price.trial_days = 14
    db.session.commit()
    assert "Free for 14 days, then $10.00 / month." in rclient.get("/join").text


@pytest.mark.parametrize("email, message", [
    ("", "Enter your email address"), ("not-an-address", "Enter a valid email address"),
    ("Ann <ann@example.org>", "Enter a valid email address")])
def test_a_missing_or_invalid_email_is_shown_next_to_the_field(rclient: FlaskClient, email: str,
                                                               message: str) -> None:
    before = _counts()
    res = _post(rclient, price=str(_price().id), email=email)
    assert res.status_code == 400 and message in res.text and 'id="join-email-error"' in res.text
    assert _counts() == before


def test_an_unknown_promotion_code_is_refused_before_anything_is_created(rclient: FlaskClient,
                                                                          stripe_sim: Any) -> None:
    before = _counts()
    res = _post(rclient, price=str(_price().id), email=unique_email(), code="NOSUCHCODE")
    assert res.status_code == 400 and "We do not know this code" in res.text
    assert 'aria-describedby="join-code-error"' in res.text
    assert _counts() == before
    assert _post(rclient, price=str(_price().id), email=unique_email(), code="bad code!").status_code == 400


def test_an_expired_code_says_so(rclient: FlaskClient, stripe: Any, promo: str) -> None:
    found = stripe.v1.promotion_codes.list(params={"code": promo}).data[0]
    stripe.v1.promotion_codes.update(found.id, params={"active": False})
    res = _post(rclient, price=str(_price().id), email=unique_email(), code=promo)
    assert res.status_code == 400 and "expired or is no longer active" in res.text


@pytest.mark.parametrize("price", ["999999", "abc", "", "-1", "1" * 30, "recurring-gift"])
def test_a_tampered_price_is_a_400_page_and_nothing_is_created(rclient: FlaskClient, price: str) -> None:
    before = _counts()
    res = _post(rclient, price=price, email=unique_email())
    assert res.status_code == 400 and "That choice is not available" in res.text
    assert _counts() == before


def test_a_donation_price_id_is_not_a_membership(rclient: FlaskClient) -> None:
    gift = db.session.scalar(select(Price).join(Plan).where(Plan.code == "recurring-gift"))
    assert gift is not None
    before = _counts()
    assert _post(rclient, price=str(gift.id), email=unique_email()).status_code == 400
    assert _counts() == before


def test_apply_shows_the_discount_and_creates_nothing(rclient: FlaskClient, promo: str) -> None:
    before = _counts()
    res = _post(rclient, price=str(_price().id), email="", code=promo, apply="1")
    assert res.status_code == 200 and "Code applied" in res.text and "$8.00" in res.text
    assert _counts() == before


def test_a_new_address_goes_to_checkout_with_the_code(rclient: FlaskClient, stripe: Any, promo: str) -> None:
    email = unique_email()
    res = _post(rclient, price=str(_price().id), email=email, code=promo)
    assert res.status_code == 303 and "/checkout/cs_" in res.headers["Location"]
    reader = db.session.scalar(select(Reader).where(Reader.email == email))
    assert reader is not None and reader.stripe_customer_id
    row = db.session.scalar(select(CheckoutSession).where(CheckoutSession.reader_id == reader.id))
    assert row is not None
    session = stripe.v1.checkout.sessions.retrieve(row.stripe_session_id)
    assert session.amount_total == 800 and session.success_url.endswith("/welcome?session_id={CHECKOUT_SESSION_ID}")
    assert "/checkout/cancelled" in session.cancel_url
    consent = db.session.scalar(select(Consent).where(Consent.reader_id == reader.id))
    assert consent is not None and consent.price_shown_minor == 800  # the price shown, discounted


def test_a_known_verified_address_gets_a_sign_in_link_not_checkout(rclient: FlaskClient, app: Flask,
                                                                     stripe_sim: Any) -> None:
    from membership.db import utcnow

    email = unique_email()
    db.session.add(Reader(email=email, email_verified_at=utcnow()))
    db.session.commit()
    before = db.session.scalar(select(func.count(CheckoutSession.id)))
    res = _post(new_client(app), price=str(_price().id), email=email)
    assert res.status_code == 202 and "sign-in link" in res.text
    assert db.session.scalar(select(func.count(CheckoutSession.id))) == before


def test_the_abandoned_and_failed_pages(rclient: FlaskClient) -> None:
    cancelled = rclient.get("/checkout/cancelled?from=join")
    assert cancelled.status_code == 200 and "You have not been charged" in cancelled.text
    assert 'href="/join"' in cancelled.text
    assert 'href="/join"' in rclient.get("/checkout/cancelled?from=//evil.example").text
    failed = rclient.get("/checkout/failed")
    assert failed.status_code == 200 and "did not go through" in failed.text


def test_welcome_for_an_unknown_session_is_a_404_page(rclient: FlaskClient) -> None:
    for arg in ("", "?session_id=cs_nope", "?session_id=x"):
        res = rclient.get("/welcome" + arg)
        assert res.status_code == 404 and "We cannot find this payment" in res.text


def test_the_support_page_links_every_way_to_give(rclient: FlaskClient) -> None:
    html = rclient.get("/").text
    for href in ('href="/join"', 'href="/donate"', 'href="/gift"', 'href="/signin"'):
        assert href in html


def test_the_demo_reader_has_a_membership_payments_and_a_recurring_gift(rclient: FlaskClient) -> None:
    from membership.billing.entitlement import entitlement
    from membership.billing.models import Payment, Subscription
    from membership.db import utcnow
    from membership.demo.reader_pages import add_demo_reader
    from membership.enums import Stream

    reader = add_demo_reader(utcnow())
    assert add_demo_reader(utcnow()).id == reader.id  # once
    assert entitlement(reader.id).active
    streams = sorted(s.stream.value for s in db.session.scalars(select(Subscription).where(
        Subscription.reader_id == reader.id)))
    assert streams == [Stream.MEMBERSHIP.value, Stream.RECURRING_DONATION.value]
    assert db.session.scalar(select(func.count(Payment.id)).where(Payment.reader_id == reader.id)) == 8


def test_seed_demo_prints_the_first_page_and_the_demo_link_in_development_only(app: Flask, db_session: Any,
                                                                               stripe_sim: Any) -> None:
    import dataclasses

    from membership.cli import _print_reader_start
    from membership.db import utcnow
    from membership.demo import seed_catalogue
    from membership.demo.reader_pages import add_demo_reader

    seed_catalogue()
    add_demo_reader(utcnow())
    runner = app.test_cli_runner()
    out = runner.invoke(args=["seed-demo", "--readers", "1", "--if-empty"]).output
    assert "open first: http://localhost/" in out and "sign-in link" not in out  # test mode: no link
    original = app.config["SETTINGS"]
    try:
        for mode, shown in (("development", True), ("production", False)):
            app.config["SETTINGS"] = dataclasses.replace(original, mode=mode)
            with app.test_request_context():
                import click.testing

                result = click.testing.CliRunner().invoke(click.Command("x", callback=lambda: _print_reader_start(app)))
            assert ("/signin/" in result.output) is shown, (mode, result.output)
    finally:
        app.config["SETTINGS"] = original


def test_an_intro_offer_made_at_stripe_shows_on_its_tier_and_is_charged(rclient: FlaskClient, stripe: Any) -> None:
    coupon = stripe.v1.coupons.create(params={"percent_off": 50, "duration": "repeating", "duration_in_months": 3})
    stripe.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                             "code": "INTRO" + uuid.uuid4().hex[:6].upper(),
                                             "metadata": {"intro": "sustainer"}})
    forget_intro_offers()
    try:
        html = rclient.get("/join").text
        sustainer = html.split("Sustaining member", 1)[1]
        assert "Introductory offer:" in sustainer and "$12.50" in sustainer and "first 3 payments" in sustainer
        assert "Introductory offer:" not in html.split("Sustaining member", 1)[0]  # not on the Member tier
        res = _post(rclient, price=str(_price("sustainer").id), email=unique_email())
        assert res.status_code == 303
        session_id = res.headers["Location"].rsplit("/", 1)[-1]
        assert stripe.v1.checkout.sessions.retrieve(session_id).amount_total == 1250
    finally:
        stripe.v1.coupons.delete(coupon.id)  # no other test sees this offer
        forget_intro_offers()


def test_a_trial_reaches_checkout_and_welcome_says_the_payment_is_not_finished(rclient: FlaskClient,
                                                                               stripe: Any) -> None:
    forget_intro_offers()
    price = _price("member", "EUR", Interval.YEAR)
    price.trial_days = 30
    db.session.commit()
    res = _post(rclient, price=str(price.id), email=unique_email())
    assert res.status_code == 303
    session_id = res.headers["Location"].rsplit("/", 1)[-1]
    welcome = rclient.get(f"/welcome?session_id={session_id}")
    assert welcome.status_code == 200 and "Your payment is not finished" in welcome.text
    assert f"/checkout/{session_id}" in welcome.text  # a way back to the open page

    paid = requests.post(res.headers["Location"], data={"card_number": "4242424242424242"}, allow_redirects=False,
                         timeout=10)
    assert paid.status_code == 303 and f"/welcome?session_id={session_id}" in paid.headers["Location"]
    session = stripe.v1.checkout.sessions.retrieve(session_id)
    subscription = stripe.v1.subscriptions.retrieve(session.subscription)
    assert subscription.status == "trialing" and session.payment_status == "no_payment_required"
    after = rclient.get(f"/welcome?session_id={session_id}")
    assert "Your free trial has started" in after.text and "We received your payment" not in after.text


def test_the_form_partial_is_embeddable(rclient: FlaskClient, stripe_sim: Any) -> None:
    """/embed/join renders the same partial with its own action; the switch links stay in the frame."""
    forget_intro_offers()
    res = rclient.get("/embed/join?interval=year")
    assert res.status_code == 200
    assert 'action="/embed/join"' in res.text and 'target="_self"' in res.text and "$100.00" in res.text
    assert 'action="/join"' in rclient.get("/join").text and 'target="_self"' not in rclient.get("/join").text


def test_a_signed_in_member_is_sent_to_their_account_not_a_second_membership(member_client: FlaskClient) -> None:
    from tests.readers.helpers import subscribe

    forget_intro_offers()
    subscribe(member_client, {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True})
    html = member_client.get("/join").text
    assert "You are already a member" in html and "Continue to payment" not in html
    before = _counts()
    res = member_client.post("/join", data={"price": str(_price("sustainer").id)})  # CSRF: the session's header
    assert res.status_code == 409 and "already a member" in res.text
    assert _counts() == before


def test_welcome_after_a_failed_delayed_payment_shows_what_to_do(rclient: FlaskClient, stripe: Any) -> None:
    from membership.billing.models import CheckoutStatus

    forget_intro_offers()
    res = _post(rclient, price=str(_price().id), email=unique_email())
    session_id = res.headers["Location"].rsplit("/", 1)[-1]
    row = db.session.scalar(select(CheckoutSession).where(CheckoutSession.stripe_session_id == session_id))
    assert row is not None
    row.status = CheckoutStatus.FAILED  # as checkout.session.async_payment_failed's handler leaves it
    db.session.commit()
    res = rclient.get(f"/welcome?session_id={session_id}")
    assert res.status_code == 303 and res.headers["Location"].endswith("/checkout/failed")


def test_tier_names_are_data_shown_in_the_reader_language_when_translated(rclient: FlaskClient,
                                                                          stripe_sim: Any) -> None:
    """Tier names are the newsroom's words: the Armenian page shows the catalog's translation
    (membership/readers/catalogue_names.py), and a name nobody translated as written."""
    from membership.billing.models import Plan

    armenian = rclient.get("/join?lang=hy").text
    assert "Աջակից անդամ" in armenian and "Sustaining member" not in armenian
    plan = db.session.scalars(select(Plan).where(Plan.code == "sustainer")).one()
    plan.name = "Patron of the newsroom"
    db.session.commit()
    try:
        assert "Patron of the newsroom" in rclient.get("/join?lang=hy").text
    finally:
        plan.name = "Sustaining member"
        db.session.commit()
