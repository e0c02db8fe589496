"""Knobs for the newsletter sender, read where they are used (env or Settings.extra).

They are operational tuning (rates, chunk sizes, timeouts), not configuration a
deployment must get right to start, so they have safe defaults and live here rather
than in the validated Settings; tests and the bench shorten them through the environment.
"""

from __future__ import annotations

import os

from flask import current_app, has_app_context

DEFAULTS: dict[str, float] = {
    "NEWSLETTER_SEND_RATE": 1000.0,  # messages/s for the whole installation (all workers)
    "NEWSLETTER_SEND_BURST": 200.0,  # tokens the bucket may hold
    "NEWSLETTER_CHUNK_SIZE": 200,  # rows claimed per claim
    "NEWSLETTER_SENDERS": 2,  # send_chunk tasks started per campaign
    "NEWSLETTER_CONNECTIONS": 2,  # sender threads (one SMTP connection each) per send_chunk task
    "NEWSLETTER_TASK_SECONDS": 60,  # a sender hands over to a fresh task (short: quick warm shutdowns)
    "NEWSLETTER_STUCK_SECONDS": 900,  # `sending` rows older than this go back to pending
    "NEWSLETTER_MAX_ATTEMPTS": 5,  # 4xx retries before a row fails
    "NEWSLETTER_RETRY_BASE_SECONDS": 60,  # first 4xx backoff; doubles per attempt
}


def knob(name: str) -> float:
    """Settings.extra[name] (tests, embedding) > environment > default."""
    if has_app_context():
        extra = current_app.config["SETTINGS"].extra
        if name in extra:
            return float(extra[name])
    raw = os.environ.get(name, "").strip()
    if raw:
        try:
            return float(raw)
        except ValueError:
            pass
    return float(DEFAULTS[name])


def int_knob(name: str) -> int:
    return max(1, int(knob(name)))
