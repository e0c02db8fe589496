"""Operational tasks: a heartbeat proving a worker runs tasks in the app context."""

from __future__ import annotations

import logging

from celery import shared_task

from membership.extensions import db
from membership.staff.models import AuditLog

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.maintenance.heartbeat", acks_late=True)
def heartbeat(marker: str) -> None:
    """Write one audit row per marker, so an operator (or a test) can see the whole
    path work: broker -> worker -> app context -> database commit. Idempotent."""
    exists = db.session.query(AuditLog.id).filter_by(action="worker.heartbeat", target_id=marker).first()
    if exists is None:
        db.session.add(AuditLog(actor="worker", action="worker.heartbeat", target_type="marker", target_id=marker))
    log.info("heartbeat", extra={"marker": marker})
