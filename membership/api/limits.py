"""Rate limits for the reader API: per client IP and per email / per reader.

Limits are read from app config at request time (`RATELIMIT_<NAME>`), so an
operator (or a test) can tighten or relax them without code; the defaults below
are per person generous and per address tight. Storage: Redis when REDIS_URL is
set, in memory on the embedded default (configured by the app factory).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request, session
from flask_limiter.util import get_remote_address

from membership.extensions import limiter

DEFAULTS = {
    "SIGNUP_PER_IP": "20/hour", "SIGNUP_PER_EMAIL": "5/hour",
    "SIGNIN_PER_IP": "30/hour", "SIGNIN_PER_EMAIL": "5/15 minutes",
    "CHECKOUT_PER_IP": "60/hour", "CHECKOUT_PER_READER": "20/hour",
}


def _value(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config.get(f"RATELIMIT_{name}", DEFAULTS[name]))


def _ns(key: str) -> str:
    """Keys live in the deployment's namespace (CELERY_KEY_PREFIX), like its queues, so
    two deployments (or two test runs) sharing one Redis never share counters."""
    return current_app.config["SETTINGS"].broker_key_prefix + key


def ip_key() -> str:
    return _ns("ip:" + (get_remote_address() or "unknown"))


def email_key() -> str:
    """The submitted email (JSON or form), normalised; falls back to the IP."""
    data: Any = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email") if hasattr(data, "get") else None
    if isinstance(email, str) and email.strip():
        return _ns("email:" + email.strip().lower()[:320])
    return ip_key()


def reader_key() -> str:
    rid = session.get("rid")
    return _ns(f"reader:{rid}") if isinstance(rid, int) else ip_key()


def per_ip_and_email(prefix: str) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    return [limiter.limit(_value(f"{prefix}_PER_IP"), key_func=ip_key, scope=f"{prefix}:ip"),
            limiter.limit(_value(f"{prefix}_PER_EMAIL"), key_func=email_key, scope=f"{prefix}:email")]


def per_ip_and_reader(prefix: str) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    return [limiter.limit(_value(f"{prefix}_PER_IP"), key_func=ip_key, scope=f"{prefix}:ip"),
            limiter.limit(_value(f"{prefix}_PER_READER"), key_func=reader_key, scope=f"{prefix}:reader")]
