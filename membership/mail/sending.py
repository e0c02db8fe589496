"""Send one notice: claim the row, check, render, keep the evidence, send, mark sent.

This is the one mail service that commits, and it commits at fixed points on purpose:
the rendered copy and its Message-ID must be durable BEFORE the SMTP conversation
(evidence for renewal-law notices), and `sent` must be written right after the 250
reply, so a crash costs at most one duplicate (with the same Message-ID, which mail
clients fold) and never a lost notice. The stored copy is written with secrets (sign-in
links, gift codes) already replaced by `[redacted]`: only the bytes handed to SMTP hold
them, and the context keeps them sealed until the final status (mail/secrets.py). Concurrent deliveries of the same task are kept
apart by a lease (`claimed_until`) taken with one conditional UPDATE.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from enum import StrEnum
from typing import Any

from markupsafe import escape
from sqlalchemy import or_, select, update

from membership.config import Settings
from membership.db import utcnow
from membership.errors import NotFound
from membership.extensions import db
from membership.mail.kinds import still_applies
from membership.mail.message import build_message, inline_html, message_id_for, to_bytes
from membership.mail.models import BounceEvent, Notice, NoticeStatus, Suppression, SuppressionReason
from membership.mail.render import UnknownKind, render_notice
from membership.mail.secrets import SECRET_KEYS, SecretUnreadable, unseal
from membership.mail.smtp import PermanentFailure, SmtpSender, TemporaryFailure
from membership.unit_of_work import checkpoint

log = logging.getLogger(__name__)

# Longer than the task's hard time limit (180 s), so a live worker never loses its lease;
# NOTICE_LEASE_SECONDS shortens it for crash tests.
LEASE = timedelta(seconds=int(os.environ.get("NOTICE_LEASE_SECONDS", "600")))
REDACTED = "[redacted]"
BLOCKING_REASONS = (SuppressionReason.HARD_BOUNCE, SuppressionReason.COMPLAINT, SuppressionReason.MANUAL)


class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # already sent, not due, or another worker holds the lease
    SUPPRESSED = "suppressed"
    FAILED = "failed"


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff for the sweeper, capped well under Redis' visibility timeout."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def claim(notice_id: int) -> Notice | None:
    """Take the lease on a pending, due notice (one conditional UPDATE); None if not ours."""
    now = utcnow()
    result = db.session.execute(
        update(Notice)
        .where(Notice.id == notice_id, Notice.status == NoticeStatus.PENDING, Notice.due_at <= now,
               or_(Notice.claimed_until.is_(None), Notice.claimed_until < now))
        .values(claimed_until=now + LEASE, attempts=Notice.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    notice = db.session.get(Notice, notice_id, populate_existing=True)
    return notice


def is_suppressed(email: str) -> bool:
    return db.session.scalar(
        select(Suppression.id).where(Suppression.email == email.lower(), Suppression.reason.in_(BLOCKING_REASONS))
    ) is not None


def _secrets(notice: Notice) -> list[str]:
    """The notice's secrets in the clear (none if they no longer open)."""
    try:
        context = unseal(json.loads(notice.context or "{}"))
    except SecretUnreadable:
        return []
    return [str(context[k]) for k in SECRET_KEYS if context.get(k) and context[k] != REDACTED]


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED).replace(str(escape(secret)), REDACTED)
    return text


def redact(notice: Notice) -> None:
    """Drop secrets (sign-in links, gift codes) from the stored context and copy."""
    context: dict[str, Any] = json.loads(notice.context or "{}")
    if not any(context.get(k) for k in SECRET_KEYS):
        return
    secrets = _secrets(notice)
    for key in SECRET_KEYS:
        if key in context:
            context[key] = REDACTED
    notice.context = json.dumps(context, sort_keys=True)
    for field in ("subject", "body_text", "body_html"):
        value = getattr(notice, field)
        if value:
            setattr(notice, field, _scrub(value, secrets))


def _finish(notice: Notice, status: NoticeStatus, error: str | None = None) -> None:
    notice.status = status
    notice.claimed_until = None
    notice.next_attempt_at = None
    if error is not None:
        notice.last_error = error[:2000]
    if status == NoticeStatus.SENT:
        notice.sent_at = utcnow()
    redact(notice)


def _prepare(notice: Notice, settings: Settings) -> bytes | None:
    """Checks, render and the stored evidence; None when the notice ended here."""
    if is_suppressed(notice.email):
        _finish(notice, NoticeStatus.SUPPRESSED, "address suppressed (hard bounce, complaint or manual)")
        return None
    reason = still_applies(notice)
    if reason:
        _finish(notice, NoticeStatus.SUPPRESSED, f"no longer applies: {reason}")
        return None
    try:
        copy = render_notice(notice, settings)
    except (UnknownKind, NotFound, SecretUnreadable) as exc:
        _finish(notice, NoticeStatus.FAILED, f"cannot render: {exc}")
        return None
    notice.message_id = notice.message_id or message_id_for(notice.kind, notice.dedupe_key)
    html = inline_html(copy.html)
    secrets = _secrets(notice)
    notice.subject, notice.body_text, notice.body_html = (
        _scrub(copy.subject, secrets), _scrub(copy.text, secrets), _scrub(html, secrets))
    msg = build_message(to=notice.email, subject=copy.subject, text=copy.text, html=html,
                        message_id=notice.message_id, inline_css=False)
    return to_bytes(msg)


def _hard_bounce(notice: Notice, exc: PermanentFailure) -> None:
    """A recipient refused with 5.1.x (no such mailbox) is a hard bounce: suppress it."""
    db.session.add(BounceEvent(email=notice.email, kind="hard" if exc.reply.startswith("5.1.") else "rejected",
                               status_code=str(exc.code), diagnostic=exc.reply[:1000],
                               message_id=notice.message_id, reported_at=utcnow()))
    if exc.reply.startswith("5.1.") and not db.session.scalar(
        select(Suppression.id).where(Suppression.email == notice.email)
    ):
        db.session.add(Suppression(email=notice.email, reason=SuppressionReason.HARD_BOUNCE, source="smtp"))


def send_notice(notice_id: int, settings: Settings, sender: SmtpSender | None = None) -> Outcome:
    """Deliver one notice at most once per success; raises TemporaryFailure to be retried."""
    notice = claim(notice_id)
    if notice is None:
        db.session.rollback()
        return Outcome.SKIPPED
    data = _prepare(notice, settings)
    checkpoint()  # the evidence (or the final status) is durable before any SMTP
    if data is None:
        return Outcome(notice.status.value) if notice.status != NoticeStatus.PENDING else Outcome.SKIPPED
    try:
        if sender is None:
            with SmtpSender(settings.smtp_url) as own:
                own.send(settings.mail_from, notice.email, data)
        else:
            sender.send(settings.mail_from, notice.email, data)
    except TemporaryFailure as exc:
        notice.claimed_until = None
        notice.last_error = str(exc)[:2000]
        notice.next_attempt_at = utcnow() + retry_delay(notice.attempts)
        checkpoint()
        log.warning("notice send deferred", extra={"notice_id": notice_id, "error": str(exc)})
        raise
    except PermanentFailure as exc:
        if exc.stage == "rcpt":
            _hard_bounce(notice, exc)
        _finish(notice, NoticeStatus.FAILED, str(exc))
        checkpoint()
        log.error("notice send failed", extra={"notice_id": notice_id, "error": str(exc)})
        return Outcome.FAILED
    _finish(notice, NoticeStatus.SENT)
    checkpoint()  # right after the 250
    return Outcome.SENT
