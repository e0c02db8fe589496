"""One sender: claim a chunk, render it once, send over one kept-open SMTP connection,
mark each row right after the server's answer; repeat until nothing is due.

The marks go through a separate autocommit connection, one UPDATE per message, so
the `sent` mark is durable-enough the moment the 250 arrives (on PostgreSQL with
`synchronous_commit = off`: a worker crash loses nothing; only a database crash could
lose the last fraction of a second of marks, which would cost duplicates, not losses).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import Connection, select, text

from membership.db import utcnow
from membership.extensions import db
from membership.mail.smtp import PermanentFailure, SmtpSender, TemporaryFailure
from membership.newsletters.deliveries import Claimed, claim, mark_failed, mark_retry, mark_sent, release
from membership.newsletters.models import Campaign, CampaignStatus, Newsletter
from membership.newsletters.ratelimit import RedisBucket, SendRate, local_bucket
from membership.newsletters.render import CampaignRenderer
from membership.newsletters.tuning import int_knob, knob
from membership.unit_of_work import checkpoint

log = logging.getLogger(__name__)
STATUS_CHECK_SECONDS = 2.0
CONNECTION_TROUBLE_BACKOFF = timedelta(seconds=30)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    claimed: int = 0
    stopped: str = "drained"  # drained | deadline | stopped (paused/cancelled) | connection
    errors: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _marks_connection() -> Iterator[Connection]:
    conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    pg = conn.dialect.name == "postgresql"
    try:
        if pg:
            conn.execute(text("SET synchronous_commit TO off"))
        yield conn
    finally:
        if pg:
            with contextlib.suppress(Exception):
                conn.execute(text("RESET synchronous_commit"))
        conn.close()


@contextlib.contextmanager
def _send_rate() -> Iterator[SendRate]:
    """The global bucket in Redis when there is one, else this process's bucket."""
    settings = current_app.config["SETTINGS"]
    rate, burst = knob("NEWSLETTER_SEND_RATE"), knob("NEWSLETTER_SEND_BURST")
    if not settings.redis_url:
        yield SendRate(local_bucket(rate, burst), rate)
        return
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
    try:
        key = f"{settings.broker_key_prefix}newsletters:send-rate"
        yield SendRate(RedisBucket(client, key, rate, burst), rate)
    finally:
        client.close()


def _retry_delay(attempts: int) -> timedelta:
    base = knob("NEWSLETTER_RETRY_BASE_SECONDS")
    return timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 6 * 3600))


def _campaign_status(conn: Connection, campaign_id: int) -> str:
    return str(conn.scalar(select(Campaign.status).where(Campaign.id == campaign_id)))


class Sender:
    """Sends one campaign's due rows until drained, stopped, or its time is up."""

    def __init__(self, campaign: Campaign, newsletter: Newsletter, smtp: SmtpSender, conn: Connection,
                 rate: SendRate) -> None:
        self.campaign, self.newsletter, self.smtp, self.conn, self.rate = campaign, newsletter, smtp, conn, rate
        self.mail_from = current_app.config["SETTINGS"].mail_from
        self.max_attempts = int_knob("NEWSLETTER_MAX_ATTEMPTS")
        self.report = SendReport()
        self._checked = time.monotonic()

    def run(self, seconds: float) -> SendReport:
        deadline = time.monotonic() + seconds
        size = int_knob("NEWSLETTER_CHUNK_SIZE")
        while True:
            if time.monotonic() >= deadline:
                self.report.stopped = "deadline"
                break
            rows = claim(self.campaign.id, self.newsletter.id, size)
            checkpoint()
            if not rows:
                break
            self.report.claimed += len(rows)
            if not self._send_chunk(rows, CampaignRenderer.build(self.campaign, self.newsletter)):
                break
        return self.report

    def _send_chunk(self, rows: list[Claimed], renderer: CampaignRenderer) -> bool:
        """False when sending must stop (paused/cancelled, connection trouble)."""
        done = 0
        try:
            for row in rows:
                if not self._still_sending():
                    self.report.stopped = "stopped"
                    return False
                self.rate.wait()
                if not self._send_one(row, renderer):
                    self.report.stopped = "connection"
                    release(self.conn, [r.id for r in rows[done:]], utcnow() + CONNECTION_TROUBLE_BACKOFF)
                    done = len(rows)
                    return False
                done += 1
            return True
        finally:
            if done < len(rows):  # stopped, or an unexpected error: hand the rest back
                release(self.conn, [r.id for r in rows[done:]])

    def _send_one(self, row: Claimed, renderer: CampaignRenderer) -> bool:
        data, message_id = renderer.render(row.reader_id, row.email)
        try:
            self.smtp.send(self.mail_from, row.email, data)
        except TemporaryFailure as exc:
            if exc.code in (0, 421):  # the server or the connection, not this reader
                self.report.errors.append(str(exc))
                return False
            self._retry_or_fail(row, str(exc))
        except PermanentFailure as exc:
            mark_failed(self.conn, row.id, str(exc))
            self.report.failed += 1
        else:
            mark_sent(self.conn, row.id, message_id)
            self.report.sent += 1
        return True

    def _retry_or_fail(self, row: Claimed, error: str) -> None:
        if row.attempts >= self.max_attempts:
            mark_failed(self.conn, row.id, f"gave up after {row.attempts} attempts: {error}")
            self.report.failed += 1
        else:
            mark_retry(self.conn, row.id, error, utcnow() + _retry_delay(row.attempts))
            self.report.retried += 1

    def _still_sending(self) -> bool:
        now = time.monotonic()
        if now - self._checked < STATUS_CHECK_SECONDS:
            return True
        self._checked = now
        return _campaign_status(self.conn, self.campaign.id) == CampaignStatus.SENDING.value


def _run_sender(campaign_id: int, budget: float) -> SendReport:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.SENDING:
        return SendReport(stopped="stopped")
    newsletter = db.session.get(Newsletter, campaign.newsletter_id)
    assert newsletter is not None
    settings = current_app.config["SETTINGS"]
    with _send_rate() as rate, SmtpSender(settings.smtp_url) as smtp, _marks_connection() as conn:
        return Sender(campaign, newsletter, smtp, conn, rate).run(budget)


_PRIORITY = ("connection", "deadline", "stopped", "drained")


def _merge(reports: list[SendReport]) -> SendReport:
    """One report for the task: the most demanding stop reason decides the follow-up."""
    merged = SendReport(stopped=min((r.stopped for r in reports), key=_PRIORITY.index, default="drained"))
    for r in reports:
        merged.sent, merged.failed, merged.retried = merged.sent + r.sent, merged.failed + r.failed, \
            merged.retried + r.retried
        merged.claimed += r.claimed
        merged.errors.extend(r.errors)
    return merged


def send_campaign(campaign_id: int, seconds: float | None = None) -> SendReport:
    """The body of the `send_chunk` task: NEWSLETTER_CONNECTIONS senders in threads.

    A sender spends most of its time waiting (SMTP replies, the `sent` mark), so a
    few threads per worker process, each with its own SMTP connection, database
    connection and app context, keep the relay busy without more processes.
    """
    budget = seconds if seconds is not None else knob("NEWSLETTER_TASK_SECONDS")
    count = int_knob("NEWSLETTER_CONNECTIONS")
    if count == 1:
        return _run_sender(campaign_id, budget)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    results: list[SendReport | BaseException] = []

    def work() -> None:
        with app.app_context():
            try:
                results.append(_run_sender(campaign_id, budget))
            except BaseException as exc:  # re-raised in the task's thread below
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, name=f"sender-{campaign_id}-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return _merge([r for r in results if isinstance(r, SendReport)])
