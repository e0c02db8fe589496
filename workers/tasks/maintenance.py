"""Operational tasks: a round-trip probe used by readiness checks and tests."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy import text

from membership.extensions import db


@shared_task(name="workers.tasks.maintenance.ping_database", acks_late=True)
def ping_database(marker: str) -> str:
    """Prove a worker can reach the database from inside the app context."""
    db.session.execute(text("SELECT 1"))
    return marker
