"""End to end: a real Celery worker on Redis sends notices to the real aiosmtpd sink."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.mail.notices import record_notice
from tests.mail.conftest import bodies, parse, yearly_subscription
from tests.support.worker import wait_until


def _purge_mail_queue(app: Flask) -> None:
    """Drop send tasks other (savepoint) tests queued for rows that never committed."""
    with app.extensions["celery"].connection_for_write() as conn:
        conn.default_channel.queue_purge("mail")


def _notice(notice_id: int) -> Notice:
    db.session.expire_all()
    row = db.session.get(Notice, notice_id)
    assert row is not None
    return row


def test_worker_sends_once_for_a_thrice_processed_event(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    _purge_mail_queue(app)
    sub = yearly_subscription()
    db.session.commit()
    ids = set()
    for _ in range(3):  # the same webhook processed three times, each its own transaction
        notice, _ = record_notice("renewal_notice", f"{sub.stripe_subscription_id}:1893456000",
                                  "thrice@example.org", {"subscription_id": sub.id}, reader_id=sub.reader_id)
        db.session.commit()
        ids.add(notice.id)
    assert len(ids) == 1
    notice_id = ids.pop()
    start_worker(queues="mail")
    assert wait_until(lambda: _notice(notice_id).status is NoticeStatus.SENT, timeout=30)
    time.sleep(1.0)  # a duplicate, if any, would arrive now
    assert len(mailbox.messages) == 1
    row = _notice(notice_id)
    msg = parse(mailbox.messages[0].data)
    assert msg["Message-ID"] == row.message_id and msg["Date"] and msg["To"] == "thrice@example.org"
    text, html = bodies(msg)
    assert "http://localhost/account" in text and "How to cancel" in html
    assert db.session.query(Notice).count() == 1


@pytest.mark.slow
def test_worker_retries_a_4xx_later_then_sends_once(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    _purge_mail_queue(app)
    mailbox.fail_rcpt["throttled@example.org"] = "421 4.7.0 too many messages, slow down"
    notice, _ = record_notice("welcome", "reader:throttled", "throttled@example.org", {})
    db.session.commit()
    notice_id = notice.id
    start_worker(queues="mail")
    assert wait_until(lambda: _notice(notice_id).attempts >= 1 and _notice(notice_id).claimed_until is None,
                      timeout=30)
    row = _notice(notice_id)
    assert row.status is NoticeStatus.PENDING and "421" in (row.last_error or "")
    assert mailbox.messages == []
    del mailbox.fail_rcpt["throttled@example.org"]  # the relay recovers
    assert wait_until(lambda: _notice(notice_id).status is NoticeStatus.SENT, timeout=45)
    time.sleep(0.5)
    assert len(mailbox.messages) == 1 and _notice(notice_id).attempts >= 2


def test_worker_marks_a_5xx_failed_without_retrying(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    _purge_mail_queue(app)
    mailbox.fail_rcpt["refused@example.org"] = "554 5.7.1 message refused"
    notice, _ = record_notice("welcome", "reader:refused", "refused@example.org", {})
    db.session.commit()
    notice_id = notice.id
    start_worker(queues="mail")
    assert wait_until(lambda: _notice(notice_id).status is NoticeStatus.FAILED, timeout=30)
    time.sleep(1.0)
    row = _notice(notice_id)
    assert row.attempts == 1 and "554" in (row.last_error or "") and mailbox.messages == []
