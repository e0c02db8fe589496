"""/donate through the Flask test client: presets with their exact fee, bad input as a 400
form that creates nothing, and a good gift that reaches Checkout on the simulator."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.billing.fees import fee_to_cover
from membership.billing.models import CheckoutSession, Donation, TributeKind
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice
from tests.readers.helpers import unique_email


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                 for m in (Reader, Donation, CheckoutSession))


def _post(client: FlaskClient, **form: Any) -> Any:
    page = client.get("/donate")
    data = {"csrf_token": _csrf(page.text), "frequency": "one_time", "currency": "USD", "amount": "50",
            "email": unique_email("donor"), **form}
    return client.post("/donate", data=data)


def test_presets_per_frequency_and_currency_with_the_exact_fee(rclient: FlaskClient) -> None:
    page = rclient.get("/donate")
    assert page.status_code == 200
    assert all(f'value="{v}"' in page.text for v in ("25", "50", "100"))
    assert fee_to_cover(5000) == 181 and "Add $1.81 to cover the card fee" in page.text
    monthly = rclient.get("/donate?frequency=month&currency=EUR")
    assert all(f'value="{v}"' in monthly.text for v in ("5", "10", "25"))
    assert 'value="100"' not in monthly.text and "€" in monthly.text and "per month" in monthly.text


def test_the_fee_for_a_typed_amount(rclient: FlaskClient) -> None:
    res = rclient.get("/donate/fee?amount=12.50&currency=USD&frequency=one_time")
    assert res.status_code == 200
    assert fee_to_cover(1250) == 69 and res.get_json()["fee"] == "$0.69"
    assert rclient.get("/donate/fee?amount=abc&currency=USD").status_code == 400


@pytest.mark.parametrize(("form", "field", "says"), [
    ({"custom_amount": "2"}, "custom_amount", "The smallest gift we can take is $5.00."),
    ({"custom_amount": "abc"}, "custom_amount", "Enter an amount in numbers"),
    ({"custom_amount": "12.345"}, "custom_amount", "Enter an amount in numbers"),
    ({"custom_amount": "99999999"}, "custom_amount", "The largest gift we can take here is"),
    ({"frequency": "month", "custom_amount": "4.99"}, "custom_amount", "The smallest gift we can take is $5.00."),
    ({"tribute": "memory", "honoree_name": " "}, "honoree_name", "Enter the name of the person"),
    ({"email": "not an address"}, "email", "Enter an email address like"),
    ({"email": ""}, "email", "Enter your email address."),
])
def test_bad_input_is_a_400_form_that_creates_nothing(rclient: FlaskClient, form: dict[str, str], field: str,
                                                      says: str) -> None:
    before = _counts()
    res = _post(rclient, **form)
    assert res.status_code == 400
    assert says in res.text
    assert f'id="{field}-error"' in res.text, "the message stands next to its field"
    assert _counts() == before


def test_a_memorial_gift_with_fees_goes_to_checkout(rclient: FlaskClient, stripe: Any) -> None:
    email = unique_email("donor")
    res = _post(rclient, email=email, custom_amount="40", cover_fees="yes", tribute="memory",
                honoree_name="Zabel Yesayan", note="For the library")
    assert res.status_code == 303, res.text
    donation = db.session.scalars(select(Donation).join(Reader, Reader.id == Donation.reader_id)
                                  .where(Reader.email == email)).one()
    assert (donation.amount_minor, donation.fee_cover_minor) == (4000 + fee_to_cover(4000), fee_to_cover(4000))
    assert (donation.tribute_kind, donation.honoree_name, donation.message) == (
        TributeKind.MEMORY, "Zabel Yesayan", "For the library")
    session = stripe.v1.checkout.sessions.retrieve(donation.stripe_checkout_session_id)
    assert res.headers["Location"] == session.url
    assert session.amount_total == 4000 + fee_to_cover(4000)
    assert "/donate/thanks?session_id=" in session.success_url


def test_a_known_paying_address_gets_a_sign_in_link_instead(rclient: FlaskClient, stripe_sim: Any) -> None:
    """Checkout never opens on another reader's Stripe customer for a visitor (payer.py)."""
    from membership.db import utcnow

    email = unique_email("known")
    db.session.add(Reader(email=email, email_verified_at=utcnow()))
    db.session.commit()
    before = _counts()
    res = _post(rclient, email=email)
    assert res.status_code == 202 and "Check your email" in res.text
    assert _counts() == before
    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.email == email, Notice.kind == "magic_link")) == 1


def test_the_thank_you_page_reads_the_session(rclient: FlaskClient, stripe: Any) -> None:
    res = _post(rclient, custom_amount="30")
    session_id = res.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    row = db.session.scalars(select(CheckoutSession).order_by(CheckoutSession.id.desc())).first()
    assert row is not None
    thanks = rclient.get(f"/donate/thanks?session_id={row.stripe_session_id}")
    assert thanks.status_code == 200 and "$30.00" in thanks.text, session_id
    unknown = rclient.get("/donate/thanks?session_id=cs_nothing")
    assert unknown.status_code == 200 and "$" not in unknown.text.split("<main", 1)[1]


def test_the_person_to_tell_is_held_until_the_gift_is_paid(rclient: FlaskClient, stripe: Any) -> None:
    """The note waits in its notice row, suppressed; the payment releases it (tributes.py)."""
    from membership.billing import tributes
    from membership.mail.models import NoticeStatus

    res = _post(rclient, tribute="honor", honoree_name="Komitas", note="With love",
                notify_name="Lusine", notify_email="Lusine@Example.org")
    assert res.status_code == 303, res.text
    notice = db.session.scalars(select(Notice).where(Notice.kind == "tribute_notice")).one()
    assert (notice.email, notice.status, notice.last_error) == ("lusine@example.org", NoticeStatus.SUPPRESSED,
                                                                 tributes.AWAITING_PAYMENT)
    donation = db.session.scalars(select(Donation).where(Donation.honoree_name == "Komitas")).one()
    assert notice.dedupe_key == f"donation:{donation.stripe_checkout_session_id}"
    assert tributes.release(donation)
    assert (notice.status, notice.last_error) == (NoticeStatus.PENDING, None)
    assert not tributes.release(donation), "released once"


@pytest.mark.parametrize(("form", "says"), [
    ({"notify_email": "lusine@example.org"}, "Choose in honour or in memory"),
    ({"tribute": "memory", "honoree_name": "Komitas", "notify_email": "nope"}, "Enter an email address like"),
    ({"tribute": "memory", "honoree_name": "Komitas", "notify_name": "Lusine"}, "Enter their email address"),
])
def test_a_bad_person_to_tell_is_a_400_form(rclient: FlaskClient, form: dict[str, str], says: str) -> None:
    before = _counts()
    res = _post(rclient, **form)
    assert res.status_code == 400 and says in res.text and 'id="notify_email-error"' in res.text
    assert _counts() == before


def test_a_signed_in_reader_gives_monthly_without_an_email_field(member_client: FlaskClient, stripe: Any) -> None:
    page = member_client.get("/donate?frequency=month")
    assert 'name="email"' not in page.text and 'name="notify_email"' not in page.text
    before = _counts()
    res = member_client.post("/donate", data={"csrf_token": _csrf(page.text), "frequency": "month",
                                              "currency": "USD", "amount": "10"})
    assert res.status_code == 303, res.text
    row = db.session.scalars(select(CheckoutSession).order_by(CheckoutSession.id.desc())).first()
    assert row is not None and (row.amount_minor, row.mode) == (1000, "subscription")
    assert _counts()[0] == before[0], "no reader created for a signed-in donor"
