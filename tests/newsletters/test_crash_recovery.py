"""A worker SIGKILLed halfway through a 5,000-reader campaign loses nobody.

After the restart (and the sweeper returning the dead worker's `sending` rows to
pending) every reader has exactly one delivery marked sent; the sink saw everyone at
least once and at most one duplicate per killed SMTP connection (the message whose
250 arrived but whose `sent` mark did not).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from membership.extensions import db
from membership.newsletters.models import CampaignStatus, Delivery, DeliveryStatus
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter
from tests.newsletters.test_send_e2e import campaign_status, start
from tests.support.worker import wait_until

READERS = 5000
CONCURRENCY = 2  # two send_chunk tasks at once ...
CONNECTIONS = 2  # ... each with two sender threads: four SMTP connections die with the worker


def sent_count(campaign_id: int) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT)) or 0)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_killed_worker_loses_no_reader_and_duplicates_at_most_one_per_connection(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    newsletter = make_newsletter()
    add_readers(newsletter.id, READERS)
    campaign = make_campaign(newsletter.id, CampaignStatus.SCHEDULED)
    db.session.commit()
    env = {"NEWSLETTER_SENDERS": str(CONCURRENCY), "NEWSLETTER_CONNECTIONS": str(CONNECTIONS),
           "NEWSLETTER_CHUNK_SIZE": "200"}
    first = start_worker(queues="newsletters", concurrency=CONCURRENCY, **env)
    start(app, campaign.id)
    assert wait_until(lambda: sent_count(campaign.id) >= READERS // 2, timeout=120, interval=0.02)
    first.kill()
    at_kill = sent_count(campaign.id)
    assert at_kill < READERS, "the campaign finished before the kill; nothing was tested"
    stuck = db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign.id, Delivery.status == DeliveryStatus.SENDING))
    assert stuck and stuck > 0  # the dead worker held claimed rows

    start_worker(queues="newsletters", concurrency=CONCURRENCY, NEWSLETTER_STUCK_SECONDS="1", **env)
    time.sleep(1.5)  # let the claims age past the sweeper's (shortened) timeout
    app.extensions["celery"].send_task("workers.tasks.newsletters.sweep_stuck_deliveries")
    assert wait_until(lambda: campaign_status(campaign.id) == "sent", timeout=180, interval=0.2)

    rows = db.session.execute(
        select(Delivery.reader_id, Delivery.status, Delivery.email).where(Delivery.campaign_id == campaign.id)
    ).all()
    assert len(rows) == READERS and {r.status for r in rows} == {DeliveryStatus.SENT}
    assert len({r.reader_id for r in rows}) == READERS
    with mailbox.lock:
        seen = Counter(rcpt for m in mailbox.messages for rcpt in m.rcpt_tos)
    assert set(seen) == {r.email for r in rows}, "someone was never sent the campaign"
    duplicates = sum(n - 1 for n in seen.values())
    killed = CONCURRENCY * CONNECTIONS
    print(f"killed at {at_kill} sent with {stuck} rows claimed; {duplicates} duplicate(s)")  # shown with -s
    assert duplicates <= killed, f"{duplicates} duplicates for {killed} killed connections"
