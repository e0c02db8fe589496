"""send_notice against the real aiosmtpd sink: headers, evidence, retries, suppression.

These call the service in-process (the worker path is in test_worker.py) so each
failure mode can be staged precisely with the sink's `fail_rcpt` replies.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask

from membership import create_app
from membership.db import utcnow
from membership.enums import Stream
from membership.extensions import db
from membership.mail.models import BounceEvent, Notice, NoticeStatus, Suppression, SuppressionReason
from membership.mail.notices import record_notice
from membership.mail.sending import Outcome, send_notice
from membership.mail.smtp import TemporaryFailure
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.mail.conftest import bodies, parse, yearly_subscription


def _send(app: Flask, notice_id: int) -> Outcome:
    return send_notice(notice_id, app.config["SETTINGS"])


def test_renewal_notice_is_sent_with_headers_evidence_and_cancel_link(
    app: Flask, db_session: Any, mailbox: Any
) -> None:
    sub = yearly_subscription()
    reader_email = db_session.get(type(sub), sub.id).reader_id
    email = f"renewer{reader_email}@example.org"
    notice, created = record_notice("renewal_notice", f"{sub.stripe_subscription_id}:1", email,
                                    {"subscription_id": sub.id}, reader_id=sub.reader_id)
    db_session.commit()
    assert created
    assert _send(app, notice.id) is Outcome.SENT
    db_session.refresh(notice)
    assert notice.status is NoticeStatus.SENT and notice.sent_at is not None and notice.attempts == 1
    assert len(mailbox.messages) == 1
    received = mailbox.messages[0]
    assert received.rcpt_tos == [email] and received.mail_from == "members@demo-gazette.example"
    msg = parse(received.data)
    assert msg["Message-ID"] == notice.message_id and notice.message_id.startswith("<renewal_notice.")
    assert abs(parsedate_to_datetime(msg["Date"]) - utcnow()) < timedelta(minutes=5)
    assert msg["From"].addresses[0].display_name == "The Demo Gazette"
    assert msg["To"].addresses[0].addr_spec == email
    assert msg["Subject"] == notice.subject and "renews on" in notice.subject
    assert msg.get_content_type() == "multipart/alternative"
    text, html = bodies(msg)
    assert "1 Example Street, Springfield" in text and "1 Example Street, Springfield" in html
    assert "http://localhost/account" in text and 'href="http://localhost/account"' in html
    assert text.rstrip() == (notice.body_text or "").rstrip()  # the stored copy is what went out
    assert html.rstrip() == (notice.body_html or "").rstrip()
    assert 'style="' in html  # CSS inlined


def test_recorded_three_times_one_row_one_message(app: Flask, db_session: Any, mailbox: Any) -> None:
    sub = yearly_subscription()
    ids = set()
    for _ in range(3):  # the same webhook processed three times
        notice, _ = record_notice("renewal_notice", f"{sub.stripe_subscription_id}:99", "thrice@example.org",
                                  {"subscription_id": sub.id}, reader_id=sub.reader_id)
        db_session.commit()
        ids.add(notice.id)
        _send(app, notice.id)
    assert len(ids) == 1
    assert db_session.query(Notice).filter_by(dedupe_key=f"{sub.stripe_subscription_id}:99").count() == 1
    assert len(mailbox.messages) == 1


def test_temporary_failure_is_retried_later_then_sent_once(app: Flask, db_session: Any, mailbox: Any) -> None:
    mailbox.fail_rcpt["busy@example.org"] = "451 4.3.0 try again later"
    notice, _ = record_notice("welcome", "reader:busy", "busy@example.org", {})
    db_session.commit()
    with pytest.raises(TemporaryFailure):
        _send(app, notice.id)
    db_session.refresh(notice)
    assert notice.status is NoticeStatus.PENDING and notice.attempts == 1 and notice.claimed_until is None
    assert notice.last_error and "451" in notice.last_error
    assert notice.next_attempt_at is not None and notice.next_attempt_at > utcnow()
    assert notice.message_id and notice.body_text  # evidence stored before the attempt
    assert mailbox.messages == []
    del mailbox.fail_rcpt["busy@example.org"]
    assert _send(app, notice.id) is Outcome.SENT
    assert _send(app, notice.id) is Outcome.SKIPPED  # idempotent on the row
    db_session.refresh(notice)
    assert notice.attempts == 2 and notice.status is NoticeStatus.SENT
    assert len(mailbox.messages) == 1


def test_permanent_failure_fails_the_row_and_suppresses_a_dead_mailbox(
    app: Flask, db_session: Any, mailbox: Any
) -> None:
    mailbox.fail_rcpt["gone@example.org"] = "550 5.1.1 no such user"
    notice, _ = record_notice("magic_link", "h1", "gone@example.org", {"link": "https://x.example/m?t=SECRET"})
    db_session.commit()
    assert _send(app, notice.id) is Outcome.FAILED
    db_session.refresh(notice)
    assert notice.status is NoticeStatus.FAILED and "550" in (notice.last_error or "")
    assert "SECRET" not in notice.context and "SECRET" not in (notice.body_text or "")
    suppression = db_session.query(Suppression).filter_by(email="gone@example.org").one()
    assert suppression.reason is SuppressionReason.HARD_BOUNCE
    assert db_session.query(BounceEvent).filter_by(email="gone@example.org", kind="hard").count() == 1
    assert mailbox.messages == []


def test_suppressed_address_is_not_mailed(app: Flask, db_session: Any, mailbox: Any) -> None:
    db_session.add(Suppression(email="complained@example.org", reason=SuppressionReason.COMPLAINT))
    db_session.add(Suppression(email="unsub@example.org", reason=SuppressionReason.UNSUBSCRIBE_ALL))
    pay = PaymentFactory()
    blocked, _ = record_notice("payment_receipt", "ch_a", "complained@example.org", {"payment_id": pay.id})
    allowed, _ = record_notice("payment_receipt", "ch_b", "unsub@example.org", {"payment_id": pay.id})
    db_session.commit()
    assert _send(app, blocked.id) is Outcome.SUPPRESSED
    # Newsletter unsubscribe does not stop a receipt (transactional mail about their own money).
    assert _send(app, allowed.id) is Outcome.SENT
    db_session.refresh(blocked)
    assert blocked.status is NoticeStatus.SUPPRESSED and blocked.message_id is None
    assert [m.rcpt_tos for m in mailbox.messages] == [["unsub@example.org"]]


def test_secrets_are_redacted_after_sending_but_were_in_the_mail(app: Flask, db_session: Any, mailbox: Any) -> None:
    link = "http://localhost/auth/confirm?token=TOPSECRET&next=/account"
    notice, _ = record_notice("confirm_signup", "hash-1", "new@example.org", {"link": link})
    db_session.commit()
    assert _send(app, notice.id) is Outcome.SENT
    text, html = bodies(parse(mailbox.messages[0].data))
    assert link in text and "TOPSECRET" in html
    db_session.refresh(notice)
    assert json.loads(notice.context) == {"link": "[redacted]"}
    for stored in (notice.body_text or "", notice.body_html or "", notice.subject or ""):
        assert "TOPSECRET" not in stored
    assert "[redacted]" in (notice.body_text or "") and "[redacted]" in (notice.body_html or "")


def test_a_cancelled_subscription_gets_no_renewal_notice(app: Flask, db_session: Any, mailbox: Any) -> None:
    sub = yearly_subscription(cancel_at_period_end=True)
    notice, _ = record_notice("renewal_notice", f"{sub.stripe_subscription_id}:5", "c@example.org",
                              {"subscription_id": sub.id})
    db_session.commit()
    assert _send(app, notice.id) is Outcome.SUPPRESSED
    db_session.refresh(notice)
    assert notice.last_error == "no longer applies: subscription is set to cancel"
    assert mailbox.messages == []


def test_not_yet_due_and_missing_rows_are_skipped(app: Flask, db_session: Any, mailbox: Any) -> None:
    later, _ = record_notice("welcome", "reader:later", "later@example.org", {},
                             due_at=utcnow() + timedelta(days=2))
    db_session.commit()
    assert _send(app, later.id) is Outcome.SKIPPED
    assert _send(app, 987654) is Outcome.SKIPPED
    assert mailbox.messages == []


@pytest.mark.parametrize("fiscal", ["for_profit", "fiscally_sponsored"])
def test_receipt_from_an_app_with_another_fiscal_status(
    app_settings: dict[str, Any], committed_db: None, mailbox: Any, fiscal: str
) -> None:
    reader = ReaderFactory(email=f"donor-{fiscal}@example.org")
    pay = PaymentFactory(reader_id=reader.id, gross_minor=5000, fee_minor=175, benefit_value_minor=0,
                         stream=Stream.ONE_TIME_DONATION)
    notice, _ = record_notice("payment_receipt", pay.stripe_charge_id, reader.email, {"payment_id": pay.id},
                              reader_id=reader.id)
    db.session.commit()
    notice_id = notice.id  # read now: a lazy load inside the other app would borrow its engine
    other = create_app(**{**app_settings, "fiscal_status": fiscal, "outlet_name": "Other Desk"})
    try:
        with other.app_context():
            assert send_notice(notice_id, other.config["SETTINGS"]) is Outcome.SENT
            db.session.remove()
    finally:
        with other.app_context():
            db.engine.dispose()
    text, _ = bodies(parse(mailbox.messages[0].data))
    assert "Other Desk" in text and "$50.00" in text
    if fiscal == "for_profit":
        assert "not tax-deductible" in text and "501(c)(3)" not in text
    else:
        assert "fiscally sponsored project of a 501(c)(3)" in text
        assert "No goods or services were provided" in text


def test_nothing_is_mailed_after_the_reader_was_erased(app: Flask, db_session: Any, mailbox: Any) -> None:
    reader = ReaderFactory()
    pay = PaymentFactory(reader_id=reader.id)
    notice, _ = record_notice("payment_receipt", "ch_erased", reader.email, {"payment_id": pay.id},
                              reader_id=reader.id)
    reader.deleted_at = utcnow()
    db_session.commit()
    assert _send(app, notice.id) is Outcome.SUPPRESSED
    db_session.refresh(notice)
    assert notice.last_error == "no longer applies: the reader's data was erased" and mailbox.messages == []


def test_price_change_for_a_subscription_that_moved_price_is_not_sent(
    app: Flask, db_session: Any, mailbox: Any
) -> None:
    sub = yearly_subscription()
    notice, _ = record_notice("price_change", "moved", "moved@example.org",
                              {"subscription_id": sub.id, "price_id": 987654, "old_amount_minor": 12000,
                               "new_amount_minor": 15000, "effective_at": int(utcnow().timestamp()) + 86400 * 21})
    db_session.commit()
    assert _send(app, notice.id) is Outcome.SUPPRESSED
    db_session.refresh(notice)
    assert notice.last_error == "no longer applies: subscription moved to another price"
