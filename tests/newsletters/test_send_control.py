"""4xx/5xx handling, pause/resume and cancel, against a real worker and the SMTP sink."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from membership.enums import StaffRole
from membership.extensions import db
from membership.newsletters.models import CampaignStatus, Delivery, DeliveryStatus
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter
from tests.newsletters.test_send_e2e import campaign_status, start
from tests.support.worker import wait_until


def _rows(campaign_id: int) -> dict[str, Delivery]:
    db.session.rollback()
    rows = db.session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id)).all()
    return {r.email: r for r in rows}


def _count(campaign_id: int, status: DeliveryStatus) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign_id, Delivery.status == status)) or 0)


def test_4xx_retries_with_backoff_and_5xx_fails_the_row(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    newsletter = make_newsletter()
    add_readers(newsletter.id, 5)
    campaign = make_campaign(newsletter.id, CampaignStatus.SCHEDULED)
    db.session.commit()
    mailbox.fail_rcpt["r1@example.org"] = "450 4.2.1 Mailbox busy, try later"
    mailbox.fail_rcpt["r2@example.org"] = "550 5.1.1 No such user"
    start_worker(queues="newsletters", NEWSLETTER_RETRY_BASE_SECONDS="2")
    start(app, campaign.id)

    def first_pass_done() -> bool:
        rows = _rows(campaign.id)
        if len(rows) < 5:
            return False
        return rows["r2@example.org"].status == DeliveryStatus.FAILED and \
            rows["r1@example.org"].next_attempt_at is not None and _count(campaign.id, DeliveryStatus.SENT) == 3

    assert wait_until(first_pass_done, timeout=30)
    busy = _rows(campaign.id)["r1@example.org"]
    assert busy.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)  # waiting out its backoff
    assert busy.attempts >= 1 and "450" in (busy.last_error or "")
    assert "550" in (_rows(campaign.id)["r2@example.org"].last_error or "")
    assert campaign_status(campaign.id) == "sending"  # still owes r1 a try

    del mailbox.fail_rcpt["r1@example.org"]
    assert wait_until(lambda: campaign_status(campaign.id) == "sent", timeout=30)
    rows = _rows(campaign.id)
    assert rows["r1@example.org"].status == DeliveryStatus.SENT and rows["r1@example.org"].attempts >= 2
    assert rows["r2@example.org"].status == DeliveryStatus.FAILED
    assert sorted(r for m in mailbox.messages for r in m.rcpt_tos) == [
        "r0@example.org", "r1@example.org", "r3@example.org", "r4@example.org"]


def _staff_client(app: Flask) -> tuple[Any, dict[str, str]]:
    from membership.staff.services import create_staff_user

    _, token = create_staff_user("desk@example.org", StaffRole.ADMIN)
    db.session.commit()
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def test_pause_holds_resume_finishes_and_cancel_stops(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    newsletter = make_newsletter()
    add_readers(newsletter.id, 600)
    campaign = make_campaign(newsletter.id, CampaignStatus.SCHEDULED)
    other = make_campaign(newsletter.id, CampaignStatus.SCHEDULED, subject="Second")
    db.session.commit()
    web, auth = _staff_client(app)
    # A slow global rate (shared through Redis) so there is time to press the buttons.
    start_worker(queues="newsletters", NEWSLETTER_SEND_RATE="150", NEWSLETTER_SEND_BURST="10",
                 NEWSLETTER_CHUNK_SIZE="20")
    start(app, campaign.id)
    assert wait_until(lambda: _count(campaign.id, DeliveryStatus.SENT) >= 50, timeout=30)
    assert web.post(f"/api/staff/campaigns/{campaign.id}/pause", headers=auth).get_json()["status"] == "paused"
    assert wait_until(lambda: _count(campaign.id, DeliveryStatus.SENDING) == 0, timeout=15)
    held = _count(campaign.id, DeliveryStatus.SENT)
    time.sleep(1.0)
    assert _count(campaign.id, DeliveryStatus.SENT) == held < 600  # nothing goes out while paused
    assert web.post(f"/api/staff/campaigns/{campaign.id}/resume", headers=auth).status_code == 200
    assert wait_until(lambda: campaign_status(campaign.id) == "sent", timeout=60)
    counts = Counter(r for m in mailbox.messages for r in m.rcpt_tos)
    assert len(counts) == 600 and max(counts.values()) == 1

    start(app, other.id)
    assert wait_until(lambda: _count(other.id, DeliveryStatus.SENT) >= 30, timeout=30)
    body = web.post(f"/api/staff/campaigns/{other.id}/cancel", headers=auth).get_json()
    assert body["status"] == "cancelled"
    assert wait_until(lambda: _count(other.id, DeliveryStatus.SENDING) == 0
                      and _count(other.id, DeliveryStatus.PENDING) == 0, timeout=15)
    stopped = _count(other.id, DeliveryStatus.SENT)
    assert 30 <= stopped < 600 and _count(other.id, DeliveryStatus.SKIPPED) == 600 - stopped
