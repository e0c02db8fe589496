"""Notices are rows first, mail second.

`record_notice` inserts the row under its unique (kind, dedupe_key), so however often
a webhook or task repeats, one notice exists; the send task is enqueued after the
commit and is idempotent on the row. Secrets in the context (links, gift codes) are
stored sealed (mail/secrets.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from membership.db import utcnow
from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.secrets import seal

SEND_TASK = "workers.tasks.mail.send_notice"


def record_notice(
    kind: str,
    dedupe_key: str,
    email: str,
    context: dict[str, Any],
    reader_id: int | None = None,
    due_at: datetime | None = None,
    window_closes_at: datetime | None = None,
) -> tuple[Notice, bool]:
    """Create the notice once; returns (notice, created). Flushes only.

    When created and due now, the send task is enqueued after the caller's commit.
    """
    values = {
        "kind": kind, "dedupe_key": dedupe_key, "email": email.lower(), "reader_id": reader_id,
        "context": json.dumps(seal(context), default=str, sort_keys=True), "due_at": due_at or utcnow(),
        "window_closes_at": window_closes_at, "created_at": utcnow(),
    }
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(Notice).values(**values)
        .on_conflict_do_nothing(index_elements=["kind", "dedupe_key"])
        .returning(Notice.id)
    )
    # RETURNING, not rowcount: an ORM-executed INSERT does not report a reliable rowcount.
    created = db.session.execute(stmt).scalar_one_or_none() is not None
    notice = db.session.scalars(
        select(Notice).where(Notice.kind == kind, Notice.dedupe_key == dedupe_key)
    ).one()
    if created and notice.due_at <= utcnow():
        enqueue_send(notice.id)
    return notice, created


def enqueue_send(notice_id: int) -> None:
    """Queue the send task for after the caller's commit (the sweeper's path too)."""
    from flask import current_app

    from membership.queue import enqueue_after_commit

    task = current_app.extensions["celery"].signature(SEND_TASK)
    enqueue_after_commit(task, notice_id)
