"""Which inbox rows the sweeper re-enqueues, and that two sweepers never overlap."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import text

from membership.billing import processing
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.db import utcnow
from membership.extensions import db
from workers.tasks.webhooks import SWEEP_LOCK_KEY, sweep_inbox


def _row(n: int, status: WebhookStatus, received_ago: float, next_in: float | None) -> int:
    now = utcnow()
    row = WebhookEvent(stripe_event_id=f"evt_sweep_{n}", type="customer.updated", stripe_created=0, payload="{}",
                       status=status, received_at=now - timedelta(seconds=received_ago),
                       next_attempt_at=None if next_in is None else now + timedelta(seconds=next_in))
    db.session.add(row)
    db.session.flush()
    return row.id


def test_due_for_sweep_picks_lost_stuck_and_due_rows_only(db_session: Any) -> None:
    lost = _row(1, WebhookStatus.RECEIVED, 120, None)  # never picked up (broker was down)
    _row(2, WebhookStatus.RECEIVED, 5, None)  # just arrived: its task is on the way
    orphaned = _row(3, WebhookStatus.PROCESSING, 900, -1)  # lease expired: the worker died
    _row(4, WebhookStatus.PROCESSING, 30, 270)  # being processed now
    due = _row(5, WebhookStatus.FAILED, 600, -5)  # retry time has come
    _row(6, WebhookStatus.FAILED, 600, 300)  # backing off
    _row(7, WebhookStatus.PROCESSED, 600, None)
    _row(8, WebhookStatus.DEAD, 600, None)
    assert processing.due_for_sweep(utcnow(), received_older_than=60) == [lost, orphaned, due]


def test_a_second_sweeper_backs_off_while_one_holds_the_lock(app: Flask, committed_db: None) -> None:
    held = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with app.app_context():
            db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK_KEY})
            held.set()
            done.wait(timeout=10)
            db.session.rollback()
            db.session.remove()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout=10)
        _row(9, WebhookStatus.RECEIVED, 600, None)
        db.session.commit()
        assert sweep_inbox.run(60) == 0  # the other sweeper owns this round
    finally:
        done.set()
        holder.join(timeout=10)
    assert sweep_inbox.run(60) == 1
