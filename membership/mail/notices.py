"""Notices are rows first, mail second.

`record_notice` inserts the row under its unique (kind, dedupe_key), so however often
a webhook or task repeats, one notice exists; the send task is enqueued after the
commit and is idempotent on the row. Secrets in the context (links, gift codes) are
stored sealed (mail/secrets.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from membership.db import utcnow
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.mail.secrets import seal

SEND_TASK = "workers.tasks.mail.send_notice"
_SILENCED: ContextVar[str | None] = ContextVar("notices_silenced", default=None)


@contextmanager
def silenced(reason: str) -> Iterator[None]:
    """Notices recorded inside are stored already `suppressed` (with the reason) and never
    sent: history being adopted from another system, whose readers were told back then.
    The row still takes its (kind, dedupe_key), so a late webhook for the same fact
    cannot mail it either."""
    token = _SILENCED.set(reason)
    try:
        yield
    finally:
        _SILENCED.reset(token)


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
    created = _insert(kind, dedupe_key, email, context, reader_id, due_at, window_closes_at) is not None
    notice = db.session.scalars(
        select(Notice).where(Notice.kind == kind, Notice.dedupe_key == dedupe_key)
    ).one()
    silence = _SILENCED.get()
    if created and silence is not None:
        notice.status = NoticeStatus.SUPPRESSED
        notice.last_error = silence
        db.session.flush()
        return notice, created
    if created and notice.due_at <= utcnow():
        enqueue_send(notice.id)
    return notice, created


def _insert(kind: str, dedupe_key: str, email: str, context: dict[str, Any], reader_id: int | None,
            due_at: datetime | None, window_closes_at: datetime | None) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, None if it existed."""
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
    new_id: int | None = db.session.execute(stmt).scalar_one_or_none()
    return new_id


def record_decoy_notice(kind: str, dedupe_key: str, context: dict[str, Any]) -> None:
    """What `record_notice` costs, leaving nothing behind: the same sealed INSERT, the row
    deleted again in the same transaction (no other transaction ever sees it), and a send
    enqueued for no row (the worker claims nothing and skips it). For requests whose
    answer time must not tell whether a notice was recorded (readers/services.py: a
    sign-in link asked for an address without an account). Flushes only."""
    new_id = _insert(kind, dedupe_key, "decoy@invalid", context, None, None, None)
    db.session.execute(delete(Notice).where(Notice.id == new_id))
    enqueue_send(0)


def enqueue_send(notice_id: int) -> None:
    """Queue the send task for after the caller's commit (the sweeper's path too)."""
    from flask import current_app

    from membership.queue import enqueue_after_commit

    task = current_app.extensions["celery"].signature(SEND_TASK)
    enqueue_after_commit(task, notice_id)
