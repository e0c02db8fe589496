"""Every mail is written in the reader's stored language: subject, body, amounts and dates.

The notices go the real way: recorded by the service that records them in production,
sent by `send_notice` to the aiosmtpd sink, then read back from the received bytes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from membership.enums import Stream
from membership.identity.links import send_sign_in_link
from membership.identity.models import Reader
from membership.mail.models import Notice
from membership.mail.notices import record_notice
from membership.mail.sending import Outcome, send_notice
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.mail.conftest import bodies, parse, yearly_subscription

ARMENIAN = re.compile(r"[\u0531-\u058F]")
# English words the mails use; none may be left in an Armenian mail's own sentences.
ENGLISH_WORDS = ("Dear", "Hello", "Thank you", "receipt", "renews", "sign in", "How to cancel", "Your account")


def _sent(app: Flask, db_session: Any, mailbox: Any, notice: Notice) -> tuple[str, str, str]:
    db_session.commit()
    assert send_notice(notice.id, app.config["SETTINGS"]) is Outcome.SENT
    msg = parse(mailbox.messages[-1].data)
    text, html = bodies(msg)
    return str(msg["Subject"]), text, html


def _reader(language: str) -> Reader:
    reader: Reader = ReaderFactory(language=language, name="Ani Petrosyan")
    return reader


def _renewal(db_session: Any, reader: Reader) -> Notice:
    sub = yearly_subscription(reader_id=reader.id)
    notice, _ = record_notice("renewal_notice", f"{sub.stripe_subscription_id}:lang", reader.email,
                              {"subscription_id": sub.id}, reader_id=reader.id)
    return notice


def _receipt(db_session: Any, reader: Reader) -> Notice:
    pay = PaymentFactory(reader_id=reader.id, gross_minor=12000, fee_minor=400, benefit_value_minor=0,
                         stream=Stream.ONE_TIME_DONATION)
    notice, _ = record_notice("payment_receipt", f"pay:{pay.id}", reader.email, {"payment_id": pay.id},
                              reader_id=reader.id)
    return notice


def _sign_in(db_session: Any, reader: Reader) -> Notice:
    send_sign_in_link(reader)
    db_session.flush()
    return db_session.query(Notice).filter_by(kind="magic_link", reader_id=reader.id).one()


def _assert_armenian(subject: str, text: str, html: str) -> None:
    assert ARMENIAN.search(subject), subject
    for body in (text, html):
        assert ARMENIAN.search(body)
        for word in ENGLISH_WORDS:
            assert word not in body, (word, body)
    assert 'lang="hy"' in html


def test_sign_in_mail_in_armenian_and_in_english(app: Flask, db_session: Any, mailbox: Any) -> None:
    subject, text, html = _sent(app, db_session, mailbox, _sign_in(db_session, _reader("hy")))
    _assert_armenian(subject, text, html)
    assert "Ձեր մուտքի հղումը" in subject and "Հարգելի՛ Ani Petrosyan," in text
    assert "/signin/" in text and "Մուտք" in html

    subject, text, html = _sent(app, db_session, mailbox, _sign_in(db_session, _reader("en")))
    assert subject.startswith("Your sign-in link for") and "Dear Ani Petrosyan," in text
    assert not ARMENIAN.search(subject + text + html) and 'lang="en"' in html


def test_receipt_in_armenian_formats_money_and_dates_for_armenian(app: Flask, db_session: Any,
                                                                  mailbox: Any) -> None:
    subject, text, html = _sent(app, db_session, mailbox, _receipt(db_session, _reader("hy")))
    _assert_armenian(subject, text, html)
    assert "Ձեր անդորրագիրը" in subject
    assert "նվիրատվության անդորրագիրն է" in text
    assert "120,00\xa0$" in text and "$120.00" not in text  # CLDR's Armenian pattern, not the English one
    assert re.search(r"\d{4} թ\. [\u0561-\u0587]+ի \d{1,2}", text), text  # '2027 թ. մարտի 5'
    assert "Այս նվիրատվության դիմաց որևէ ապրանք կամ ծառայություն չի տրամադրվել" in text  # the tax wording

    subject, text, html = _sent(app, db_session, mailbox, _receipt(db_session, _reader("en")))
    assert subject.startswith("Your receipt from") and "$120.00" in text
    assert "No goods or services were provided" in text and not ARMENIAN.search(text)


@pytest.mark.parametrize("language", ["hy", "en"])
def test_renewal_notice_keeps_what_the_law_requires_in_each_language(app: Flask, db_session: Any,
                                                                     mailbox: Any, language: str) -> None:
    """Amount, date, that it renews automatically, and how to cancel with the one-click link."""
    reader = _reader(language)
    subject, text, html = _sent(app, db_session, mailbox, _renewal(db_session, reader))
    assert "http://localhost/account" in text and 'href="http://localhost/account"' in html
    if language == "hy":
        _assert_armenian(subject, text, html)
        assert "«Sustainer» ծրագիրը կերկարաձգվի" in subject
        assert "ինքնաբերաբար կերկարաձգվի" in text and "120,00\xa0$" in text
        assert "ԻՆՉՊԵՍ ՉԵՂԱՐԿԵԼ" in text and "Ինչպես չեղարկել" in html
        assert "մեկ սեղմումով" in text and "այլևս ոչինչ չի գանձվում" in text
        assert "ևս մեկ տարվա համար" in text
    else:
        assert subject.startswith("Your Sustainer renews on")
        assert "renews automatically on" in text and "$120.00" in text and "another year" in text
        assert "HOW TO CANCEL" in text and "in one click" in text and not ARMENIAN.search(text)


def test_a_reader_who_switches_language_gets_the_next_mail_in_the_new_one(app: Flask, db_session: Any,
                                                                         mailbox: Any) -> None:
    reader = _reader("en")
    subject, _, _ = _sent(app, db_session, mailbox, _sign_in(db_session, reader))
    assert not ARMENIAN.search(subject)
    reader.language = "hy"
    db_session.query(Notice).filter_by(reader_id=reader.id).delete()
    subject, _, _ = _sent(app, db_session, mailbox, _sign_in(db_session, reader))
    assert ARMENIAN.search(subject)


def test_a_donation_without_a_plan_is_worded_as_a_donation_in_armenian(app: Flask, db_session: Any) -> None:
    from membership.mail.render import render_notice
    from tests.mail.conftest import notice

    reader = _reader("hy")
    context = {"amount_minor": 2500, "currency": "usd", "checkout_session_id": None, "donation": True}
    out = render_notice(notice("checkout_payment_failed", reader.email, context, reader_id=reader.id),
                        app.config["SETTINGS"])
    assert "Ձեր նվիրատվության 25,00\xa0$ բանկային վճարումը չի կատարվել" in out.text
    assert "ծրագր" not in out.text  # no "plan" invented for a donation
    # "Try again" leads to the page that says why a bank refuses a payment and what to do
    assert "/checkout/failed" in out.text and 'checkout/failed">' in out.html
