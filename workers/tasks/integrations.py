"""Outbound webhook tasks: deliver one (endpoint, reader) line in order; sweep due lines.

`deliver` is safe to run twice at once or again after a crash: the line's head is
locked for the try (membership/integrations/delivery.py), a duplicate finds it taken
and leaves, and a head whose worker died is simply still pending. The sweeper is how
retries past the short countdowns happen and how lost broker messages are caught up.
"""

from __future__ import annotations

from celery import shared_task

from membership.extensions import db
from membership.integrations import delivery
from membership.queue import enqueue


@shared_task(name="workers.tasks.integrations.deliver", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def deliver(endpoint_id: int, reader_id: int) -> list[str]:
    try:
        return [o.value for o in delivery.deliver_line(int(endpoint_id), int(reader_id))]
    except Exception:
        db.session.rollback()
        raise


@shared_task(name="workers.tasks.integrations.sweep_outbound", acks_late=True, soft_time_limit=60, time_limit=90)
def sweep_outbound() -> int:
    """Enqueue every line whose head is due (bounded per run; the next run takes the rest)."""
    lines = delivery.due_lines()
    db.session.rollback()
    for endpoint_id, reader_id in lines:
        enqueue("workers.tasks.integrations.deliver", endpoint_id, reader_id)
    return len(lines)
