"""A worker SIGKILLed mid-send: the notice is not lost, and the one possible duplicate
carries the same Message-ID (so mail clients fold it)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from membership.billing.notices.scheduling import SWEEP_GRACE, sweep_due_notices
from membership.db import utcnow
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.mail.notices import record_notice
from membership.mail.sink import start_sink
from tests.conftest import free_port
from tests.mail.conftest import parse
from tests.mail.test_worker import _purge_mail_queue
from tests.support.worker import wait_until


class SlowSink:
    """Takes the whole message, then sits on the 250 (a relay stalling under load)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)  # a real relay may deliver this copy later
        self.entered.set()
        await asyncio.sleep(3)
        return "250 OK"


def _row(notice_id: int) -> Notice:
    db.session.expire_all()
    row = db.session.get(Notice, notice_id)
    assert row is not None
    return row


@pytest.mark.slow
def test_killed_mid_send_is_resent_by_the_sweeper_with_the_same_message_id(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    _purge_mail_queue(app)
    slow = SlowSink()
    port = free_port()
    controller = start_sink(slow, port)
    try:
        notice, _ = record_notice("welcome", "reader:crash", "crash@example.org", {})
        db.session.commit()
        notice_id = notice.id
        first = start_worker(queues="mail", SMTP_URL=f"smtp://127.0.0.1:{port}", NOTICE_LEASE_SECONDS="2")
        assert slow.entered.wait(timeout=30)
        first.kill()  # after DATA, before the 250: the row cannot know whether it arrived
        row = _row(notice_id)
        assert row.status is NoticeStatus.PENDING and row.claimed_until is not None and row.message_id
        message_id = row.message_id
        assert wait_until(lambda: (_row(notice_id).claimed_until or utcnow()) < utcnow(), timeout=10)  # lease over
        assert sweep_due_notices(utcnow() + SWEEP_GRACE + timedelta(minutes=1)) == [notice_id]
        db.session.commit()  # the sweeper's enqueue goes out with the commit
        start_worker(queues="mail")
        assert wait_until(lambda: _row(notice_id).status is NoticeStatus.SENT, timeout=30)
        assert len(mailbox.messages) == 1
        assert parse(mailbox.messages[0].data)["Message-ID"] == message_id
        assert len(slow.messages) == 1  # had the stalled relay delivered it: a duplicate clients fold
        assert parse(slow.messages[0])["Message-ID"] == message_id
        assert _row(notice_id).attempts == 2
    finally:
        controller.stop()
