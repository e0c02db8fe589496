"""Reader sessions, held on the server so they can be ended, and CSRF.

Why a `reader_sessions` row per signed-in browser instead of only Flask's signed
cookie: a signed cookie cannot be taken back. Copied before sign-out it kept working
for its whole lifetime, and a per-reader "revoked at" stamp can only end every session
at once. With a row, sign-out ends exactly this browser, sign-out-everywhere, an email
change and erasure end all of them, and the limits are the server's, not the cookie's:
30 days after sign-in (absolute) and 7 days without a request (idle).

Why it stays cheap: the cookie (still Flask's signed cookie: HttpOnly, SameSite=Lax,
Secure outside development) holds a random session id; the row is found by the
SHA-256 of that id through a unique index, in the same query that loads the Reader (a
join), so a request spends the one indexed lookup it spent before. Only the hash is
stored, so a leaked copy of the table signs nobody in. `last_seen_at` is written at
most once every `TOUCH_EVERY` per session (one autocommit UPDATE, outside the
request's transaction), so idle tracking costs no write on ordinary requests; the idle
limit is thus exact to within those few minutes.

Sensitive steps (erasure, email change) also need a sign-in from the last 15 minutes;
otherwise a fresh sign-in link is mailed and the call answers 403 `reauthentication-
required` (`require_recent_sign_in`).

CSRF: a small explicit implementation instead of Flask-WTF's CSRFProtect, because
the rule we need is narrower and different per caller: pages' forms and
cookie-authenticated JSON calls must echo the session's token (form field
`csrf_token` or header `X-CSRF-Token`, compared in constant time), while the webhook
and bearer-token staff calls have no cookie and need no token. A global
CSRFProtect would need exemptions on those, and adds a dependency for ~30 lines.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, request, session
from sqlalchemy import select, update

from membership import connections
from membership.db import utcnow
from membership.errors import DomainError, Forbidden, Unauthorized
from membership.extensions import db
from membership.identity.models import Reader, ReaderSession
from membership.unit_of_work import checkpoint

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ABSOLUTE = timedelta(days=30)
IDLE = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=5)
RECENT = timedelta(minutes=15)
_COOKIE_KEY = "sid"
_CACHE = "membership.reader_session"  # in the WSGI environ: per request (g may outlive one)


class ReauthenticationRequired(DomainError):
    status, title, type_slug = 403, "Recent sign-in required", "reauthentication-required"


@dataclass(frozen=True)
class Current:
    """The signed-in reader and the facts about this browser's session."""

    reader: Reader
    session_id: int
    signed_in_at: datetime


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


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
    """Sign the reader in on this browser: a new session row (any earlier one this
    cookie named is ended, so a planted id cannot ride along) and a fresh CSRF token.
    Flushes; the request's boundary commits before the response (and its cookie) leaves."""
    _revoke_cookie_session()
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(ReaderSession(token_hash=_hash(raw), reader_id=reader.id, created_at=now, last_seen_at=now))
    db.session.flush()
    session.clear()
    session.permanent = True
    session[_COOKIE_KEY] = raw
    session["rid"] = reader.id  # the per-reader rate-limit key (api/limits.py); never trusted for auth
    request.environ.pop(_CACHE, None)
    return csrf_token()


def _revoke_cookie_session() -> None:
    raw = session.get(_COOKIE_KEY)
    if isinstance(raw, str):
        db.session.execute(update(ReaderSession).where(ReaderSession.token_hash == _hash(raw),
                                                       ReaderSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def end_session() -> None:
    """Sign out this browser: its row is revoked (so a copied cookie dies too) and the
    cookie cleared. Flushes; the caller commits."""
    _revoke_cookie_session()
    db.session.flush()
    session.clear()
    request.environ.pop(_CACHE, None)


def revoke_all_sessions(reader: Reader) -> None:
    """Sign out everywhere: every live session of the reader ends. Flushes."""
    db.session.execute(update(ReaderSession).where(ReaderSession.reader_id == reader.id,
                                                   ReaderSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.flush()
    request.environ.pop(_CACHE, None)


def current() -> Current | None:
    """This request's live session, looked up once per request (cached in its environ)."""
    if _CACHE in request.environ:
        cached: Current | None = request.environ[_CACHE]
        return cached
    found = _lookup()
    request.environ[_CACHE] = found
    return found


def _lookup() -> Current | None:
    raw = session.get(_COOKIE_KEY)
    if not isinstance(raw, str) or len(raw) > 128:
        return None
    now = utcnow()
    row = db.session.execute(
        select(Reader, ReaderSession.id, ReaderSession.created_at, ReaderSession.last_seen_at)
        .join(ReaderSession, ReaderSession.reader_id == Reader.id)
        .where(ReaderSession.token_hash == _hash(raw), ReaderSession.revoked_at.is_(None),
               ReaderSession.created_at > now - ABSOLUTE, ReaderSession.last_seen_at > now - IDLE,
               Reader.deleted_at.is_(None))
    ).first()
    if row is None:
        return None
    reader, session_id, created_at, last_seen_at = row
    g.reader_language = reader.language  # the page's language when nothing more explicit chose one
    if now - last_seen_at >= TOUCH_EVERY:
        _touch(session_id, now)
    return Current(reader=reader, session_id=session_id, signed_in_at=created_at)


def _touch(session_id: int, now: datetime) -> None:
    """One autocommit UPDATE, outside the request's transaction: a GET need not commit."""
    with connections.autocommit_connection() as conn:
        conn.execute(update(ReaderSession).where(ReaderSession.id == session_id,
                                                 ReaderSession.last_seen_at < now - TOUCH_EVERY)
                     .values(last_seen_at=now))


def session_reader() -> Reader | None:
    """The signed-in reader, or None (no cookie, signed out, expired, revoked or erased)."""
    found = current()
    return found.reader if found is not None else None


def require_reader() -> Reader:
    """Guard for reader endpoints: a live session, and the CSRF token on unsafe methods."""
    reader = session_reader()
    if reader is None:
        raise Unauthorized("Sign in first.")
    if request.method in UNSAFE:
        check_csrf()
    return reader


def require_recent_sign_in() -> Reader:
    """For erasure and email change: a sign-in within `RECENT`. Otherwise mail a fresh
    sign-in link (committed here, since the 403 that follows rolls the request back)
    and refuse; the reader clicks it and repeats the step."""
    found = current()
    if found is None:
        raise Unauthorized("Sign in first.")
    if utcnow() - found.signed_in_at <= RECENT:
        return found.reader
    from membership.identity.links import send_sign_in_link

    send_sign_in_link(found.reader)
    checkpoint()  # the fresh link survives the 403 that follows
    raise ReauthenticationRequired(
        "This step needs a sign-in from the last 15 minutes. We have emailed you a fresh sign-in link: "
        "open it, then try again.")
