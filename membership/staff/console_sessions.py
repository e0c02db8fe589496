"""Console sign-in for staff: mailed links, server-held sessions, ending them.

Why separate from readers' (identity/sessions.py): a staff session opens finance figures,
refunds and erasure. Its rows live in `staff_sessions` and its links in
`staff_sign_in_links`, so no reader token or session can ever be looked up as a staff
one, and the reverse. The limits are tighter than a reader's: 12 hours from sign-in,
1 hour idle.

A sign-in request for an address that is not an enabled staff account does the same
work as for one (a link minted and hashed, its row looked up; a decoy notice sealed,
stored and dropped in the same transaction), so neither the answer nor its time tells who is staff.

Services flush; the caller's unit of work commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from membership import connections
from membership.db import utcnow
from membership.extensions import db
from membership.mail.notices import record_decoy_notice, record_notice
from membership.staff.models import AuditLog, StaffSession, StaffSignInLink, StaffUser

LINK_LIFETIME = timedelta(minutes=15)
ABSOLUTE = timedelta(hours=12)
IDLE = timedelta(hours=1)
TOUCH_EVERY = timedelta(minutes=2)
SIGN_IN_PATH = "/staff/signin/"
MAIL_KIND = "magic_link"  # the readers' sign-in mail: "Here is your link to sign in", one button


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _public_link(path: str) -> str:
    return current_app.config["SETTINGS"].public_url.rstrip("/") + path


def enabled_staff(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower(),
                                                     StaffUser.disabled_at.is_(None)))


def request_link(email: str) -> None:
    """Mail a console sign-in link if `email` is an enabled staff account; the same work
    otherwise (module docstring). Flushes."""
    user = enabled_staff(email)
    token = secrets.token_urlsafe(32)
    if user is None:
        # a lookup where the real path inserts (the link table names staff only)
        db.session.scalar(select(StaffSignInLink.id).where(StaffSignInLink.token_hash == hash_secret(token)))
        record_decoy_notice(MAIL_KIND, "staff:" + hash_secret(token), {"link": _public_link(SIGN_IN_PATH + token)})
        return
    mail_link(user, token)


def mail_link(user: StaffUser, token: str | None = None) -> str:
    """Store a new link for `user` and mail it (the outbox, after the commit); returns the
    URL (for the development demo's start-up message only). Flushes."""
    token = token or secrets.token_urlsafe(32)
    db.session.add(StaffSignInLink(token_hash=hash_secret(token), staff_user_id=user.id,
                                   expires_at=utcnow() + LINK_LIFETIME))
    db.session.flush()
    link = _public_link(SIGN_IN_PATH + token)
    record_notice(MAIL_KIND, "staff:" + hash_secret(token), user.email, {"link": link})
    return link


def link_usable(token: str) -> bool:
    """Whether the link would still sign in, without using it up (the GET before the button)."""
    return db.session.scalar(select(StaffSignInLink.id).where(
        StaffSignInLink.token_hash == hash_secret(token), StaffSignInLink.used_at.is_(None),
        StaffSignInLink.expires_at > utcnow())) is not None


def consume_link(token: str) -> StaffUser | None:
    """Use the link up (one conditional UPDATE: two racing clicks cannot both sign in);
    the enabled staff member it names, or None if unknown, used, expired or disabled."""
    now = utcnow()
    staff_id = db.session.execute(
        update(StaffSignInLink)
        .where(StaffSignInLink.token_hash == hash_secret(token), StaffSignInLink.used_at.is_(None),
               StaffSignInLink.expires_at > now)
        .values(used_at=now).returning(StaffSignInLink.staff_user_id)
    ).scalar_one_or_none()
    user = db.session.get(StaffUser, staff_id) if staff_id is not None else None
    if user is None or user.disabled_at is not None:
        return None
    return user


def start(user: StaffUser, ip: str | None, user_agent: str | None, verified: bool = False) -> str:
    """A new session row; returns the raw id for the cookie (only its hash is stored). Flushes."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(StaffSession(token_hash=hash_secret(raw), staff_user_id=user.id, created_at=now,
                                last_seen_at=now, verified_at=now if verified else None,
                                ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:300] or None))
    db.session.add(AuditLog(actor=user.email, action="console.sign_in", target_type="staff_user",
                            target_id=str(user.id), details={"ip": (ip or "")[:64]}))
    db.session.flush()
    return raw


@dataclass(frozen=True)
class Live:
    """A live console session and its staff member (plain facts copied at lookup)."""

    user: StaffUser
    session_id: int
    signed_in_at: datetime
    verified: bool


def lookup(raw: str) -> Live | None:
    """The live session the cookie names (one indexed join), or None: unknown, revoked,
    past 12 hours, idle over an hour, or its account disabled."""
    if len(raw) > 128:
        return None
    now = utcnow()
    row = db.session.execute(
        select(StaffUser, StaffSession.id, StaffSession.created_at, StaffSession.last_seen_at,
               StaffSession.verified_at)
        .join(StaffSession, StaffSession.staff_user_id == StaffUser.id)
        .where(StaffSession.token_hash == hash_secret(raw), StaffSession.revoked_at.is_(None),
               StaffSession.created_at > now - ABSOLUTE, StaffSession.last_seen_at > now - IDLE,
               StaffUser.disabled_at.is_(None))
    ).first()
    if row is None:
        return None
    user, session_id, created_at, last_seen_at, verified_at = row
    if now - last_seen_at >= TOUCH_EVERY:
        with connections.autocommit_connection() as conn:
            conn.execute(update(StaffSession).where(StaffSession.id == session_id,
                                                    StaffSession.last_seen_at < now - TOUCH_EVERY)
                         .values(last_seen_at=now))
    return Live(user=user, session_id=session_id, signed_in_at=created_at, verified=verified_at is not None)


def mark_verified(session_id: int) -> None:
    db.session.execute(update(StaffSession).where(StaffSession.id == session_id).values(verified_at=utcnow()))
    db.session.flush()


def end(session_id: int) -> None:
    """Sign out one session (its cookie dies with it). Flushes."""
    db.session.execute(update(StaffSession).where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))
    db.session.flush()


def end_all(user: StaffUser, actor: str) -> int:
    """End every live console session of one staff member (a lost laptop, a leaver, an
    admin's button on Operations); returns how many. Audited. Flushes."""
    ids = list(db.session.scalars(select(StaffSession.id).where(StaffSession.staff_user_id == user.id,
                                                                StaffSession.revoked_at.is_(None))))
    if ids:
        db.session.execute(update(StaffSession).where(StaffSession.id.in_(ids)).values(revoked_at=utcnow()))
    db.session.add(AuditLog(actor=actor, action="staff.sessions.end", target_type="staff_user",
                            target_id=str(user.id), details={"email": user.email, "session_ids": ids}))
    db.session.flush()
    return len(ids)


def live_sessions(limit: int = 200) -> list[tuple[StaffSession, StaffUser]]:
    """Every live console session, newest first (Operations)."""
    now = utcnow()
    rows = db.session.execute(
        select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.staff_user_id)
        .where(StaffSession.revoked_at.is_(None), StaffSession.created_at > now - ABSOLUTE,
               StaffSession.last_seen_at > now - IDLE)
        .order_by(StaffSession.id.desc()).limit(limit)).all()
    return [(s, u) for s, u in rows]
