"""Newsletter tasks: thin wrappers that take ids, re-check state and call services.

`start_campaign` creates the rows and starts NEWSLETTER_SENDERS senders; each
`send_chunk` claims and sends chunks until nothing is due, hands over to a fresh task
when its time budget is spent, and the last one to drain marks the campaign sent.
Rows + beat carry everything slow: retries after a 4xx wait in `next_attempt_at`
(countdowns stay far below the broker's visibility timeout), and the sweeper restarts
what a crash or a lost broker message left behind.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from membership.db import utcnow
from membership.extensions import db
from membership.newsletters import campaigns, deliveries
from membership.newsletters.models import Campaign, CampaignStatus
from membership.newsletters.sending import SendReport, send_campaign
from membership.newsletters.tuning import int_knob, knob
from membership.queue import enqueue_after_commit

log = logging.getLogger(__name__)
MAX_COUNTDOWN = 600


@shared_task(name="workers.tasks.newsletters.start_campaign", acks_late=True, ignore_result=True)
def start_campaign(campaign_id: int) -> int | None:
    created = campaigns.start_sending(campaign_id)
    if created is not None:
        log.info("campaign started", extra={"campaign_id": campaign_id, "deliveries": created})
        for _ in range(int_knob("NEWSLETTER_SENDERS")):
            enqueue_after_commit(send_chunk, campaign_id)  # once the deliveries are committed
    return created


@shared_task(name="workers.tasks.newsletters.send_chunk", acks_late=True, ignore_result=True)
def send_chunk(campaign_id: int) -> dict[str, object]:
    report = send_campaign(campaign_id)
    db.session.rollback()
    _follow_up(campaign_id, report)
    return {"sent": report.sent, "failed": report.failed, "retried": report.retried, "stopped": report.stopped}


def _follow_up(campaign_id: int, report: SendReport) -> None:
    if report.stopped == "deadline":
        enqueue_after_commit(send_chunk, campaign_id)
    elif report.stopped == "connection":
        enqueue_after_commit(send_chunk, campaign_id, countdown=30)
    elif report.stopped == "stopped":
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is not None and campaign.status == CampaignStatus.CANCELLED:
            deliveries.skip_pending_of_cancelled(campaign_id)
    else:
        finished = campaigns.finish_if_done(campaign_id)
        if not finished:
            _wake_for_retries(campaign_id)


def _wake_for_retries(campaign_id: int) -> None:
    when = deliveries.next_retry_at(campaign_id)
    if when is not None:
        delay = (when - utcnow()).total_seconds()
        enqueue_after_commit(send_chunk, campaign_id, countdown=max(1, min(int(delay) + 1, MAX_COUNTDOWN)))


@shared_task(name="workers.tasks.newsletters.sweep_stuck_deliveries", acks_late=True, ignore_result=True)
def sweep_stuck_deliveries() -> list[int]:
    """Rows a dead worker left `sending` go back to pending; senders restart where needed."""
    swept = deliveries.sweep_stuck(timedelta(seconds=knob("NEWSLETTER_STUCK_SECONDS")))
    restart = campaigns.campaigns_needing_a_sender()
    for campaign_id in restart:
        enqueue_after_commit(send_chunk, campaign_id)  # after the swept rows are committed
    if swept:
        log.warning("returned stuck deliveries to pending", extra={"campaigns": swept})
    return restart


@shared_task(name="workers.tasks.newsletters.start_due_campaigns", acks_late=True, ignore_result=True)
def start_due_campaigns() -> list[int]:
    due = campaigns.due_campaign_ids()
    for campaign_id in due:
        enqueue_after_commit(start_campaign, campaign_id)
    return due


@shared_task(name="workers.tasks.newsletters.read_bounce_mailbox", acks_late=True, ignore_result=True)
def read_bounce_mailbox() -> dict[str, int]:
    """Import DSNs/ARF reports delivered into BOUNCE_MAILDIR (unset: nothing to do)."""
    import os
    from pathlib import Path

    from membership.newsletters.bounces import read_mailbox

    folder = os.environ.get("BOUNCE_MAILDIR", "").strip()
    if not folder or not Path(folder).is_dir():
        return {}
    return read_mailbox(Path(folder))
