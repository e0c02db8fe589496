"""The two state moves that also start work in a worker, shared by the staff API and the
console so both doors start senders the same way.

Tasks are enqueued after the commit (`enqueue_after_commit`): a rolled-back request
starts nothing, and a worker never looks for a row that is not committed yet.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from membership.newsletters import campaigns
from membership.newsletters.models import Campaign
from membership.newsletters.tuning import int_knob
from membership.queue import enqueue_after_commit

START_TASK = "workers.tasks.newsletters.start_campaign"
SEND_TASK = "workers.tasks.newsletters.send_chunk"


def schedule(campaign_id: int, at: datetime | None = None) -> Campaign:
    """Due now: the start task runs after the commit; later: beat's start_due_campaigns
    starts it when the time comes."""
    campaign = campaigns.schedule(campaign_id, at)
    if campaigns.is_due(campaign):
        enqueue_after_commit(current_app.extensions["celery"].signature(START_TASK), campaign_id)
    return campaign


def resume(campaign_id: int) -> Campaign:
    """Senders are restarted at once (the sweeper would, but only within a minute)."""
    campaign = campaigns.resume(campaign_id)
    task = current_app.extensions["celery"].signature(SEND_TASK)
    for _ in range(int_knob("NEWSLETTER_SENDERS")):
        enqueue_after_commit(task, campaign_id)
    return campaign
