"""Reader sessions and CSRF.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure outside
development: set by the app factory) holding the reader id, the time it was issued
(ms) and a per-session CSRF token. "Sign out everywhere" stamps
`Reader.sessions_revoked_at`; a cookie issued before that stamp is refused, so no
server-side session table is needed.

CSRF: a small explicit implementation instead of Flask-WTF's CSRFProtect, because
the rule we need is narrower and different per caller: pages' forms and
cookie-authenticated JSON calls must echo the session's token (form field
`csrf_token` or header `X-CSRF-Token`, compared in constant time), while the webhook
and bearer-token staff calls have no cookie and need no token. A global
CSRFProtect would need exemptions on those, and adds a dependency for ~30 lines.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime

from flask import request, session

from membership.db import utcnow
from membership.errors import Forbidden, Unauthorized
from membership.extensions import db
from membership.readers.models import Reader

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def csrf_token() -> str:
    """The session's CSRF token, minted on first use (also for anonymous page forms)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    expected = session.get("csrf")
    sent = request.headers.get(CSRF_HEADER) or (request.form.get(CSRF_FIELD) if request.form else None)
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("CSRF token missing or wrong: send the session's token in X-CSRF-Token.")


def start_session(reader: Reader) -> str:
    """Sign the reader in on this browser; a fresh CSRF token; returns it."""
    session.clear()
    session.permanent = True
    session["rid"] = reader.id
    session["iat"] = _ms(utcnow())
    return csrf_token()


def end_session() -> None:
    session.clear()


def session_reader() -> Reader | None:
    """The signed-in reader, or None (no cookie, erased, or revoked by sign-out everywhere)."""
    rid, iat = session.get("rid"), session.get("iat")
    reader = db.session.get(Reader, rid) if isinstance(rid, int) and isinstance(iat, int) else None
    if reader is not None and (reader.deleted_at is not None or (
            reader.sessions_revoked_at is not None and iat is not None and iat <= _ms(reader.sessions_revoked_at))):
        reader = None
    return reader


def require_reader() -> Reader:
    """Guard for reader endpoints: a live session, and the CSRF token on unsafe methods."""
    reader = session_reader()
    if reader is None:
        raise Unauthorized("Sign in first.")
    if request.method in UNSAFE:
        check_csrf()
    return reader


def revoke_all_sessions(reader: Reader) -> None:
    """Sign out everywhere: every cookie issued up to now stops working. Flushes."""
    reader.sessions_revoked_at = datetime.now(UTC)
    db.session.flush()
