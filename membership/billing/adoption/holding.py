"""Webhook events that wait for an adoption instead of dying.

While an adoption runs, Stripe keeps sending events, some for customers the walk has
not reached yet. Their handlers raise `RetryLater` (no reader for the customer yet);
normally an event that keeps failing dies after MAX_ATTEMPTS (about half an hour of
backoff), too soon for an account that takes hours to adopt. So while a run is
unfinished such events are *held*: retried on the usual capped backoff but never
marked dead. When the run finishes, `release_held` (adoption/walk.py) gives every
held event, and every event that died earlier for an unknown reader, a fresh set of
attempts and hands it to the workers, now that the customer exists.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from membership.billing.adoption.models import AdoptionRun
from membership.extensions import db

HELD_NOTE = "held until the Stripe adoption finishes"
RETRY_LATER_PREFIX = "retry later"  # processing.py's note for a RetryLater failure


def adoption_running() -> bool:
    """An adoption has started and not finished (a crashed one counts until resumed)."""
    return bool(db.session.scalar(select(exists().where(AdoptionRun.finished_at.is_(None)))))
