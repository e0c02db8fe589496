"""Staff users, their API tokens, and the audit log of what staff did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, JSONType, UTCDateTime, intpk, optional_timestamp, str_enum, timestamp
from membership.enums import StaffRole


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    created_at: Mapped[timestamp]
    disabled_at: Mapped[optional_timestamp]


class ApiToken(Base):
    """A bearer token for staff API calls; only its SHA-256 is stored.

    Every token expires (a leaked token stops working on its own); `last_used_at` is
    written at most once a minute (auth.py), so it dates use without a write per request."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[timestamp]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[optional_timestamp]
    revoked_at: Mapped[optional_timestamp]


class AuditLog(Base):
    """Append-only record of staff actions: every staff write and export (auth.py's
    after-request hook, so no route can forget), plus the domain's own richer entries
    (comp grants, alerts) and operator commands (actor "cli")."""

    __tablename__ = "audit_log"
    # A member's page lists the entries naming them (membership/console/members_data.py).
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[intpk]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, object]] = mapped_column(JSONType, default=dict)
    at: Mapped[timestamp] = mapped_column(index=True)


class StaffSignInLink(Base):
    """A console sign-in link mailed to a staff address: only its SHA-256 is stored,
    single use (consumed by one conditional UPDATE), 15 minutes. Readers' links live in
    `login_tokens`, which names readers; staff links never sign a reader in, nor the reverse."""

    __tablename__ = "staff_sign_in_links"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[timestamp]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[optional_timestamp]


class StaffSession(Base):
    """One signed-in console browser, held on the server so it can be ended (sign-out,
    `flask staff end-sessions`, an admin on the Operations page). The cookie carries a
    random id under its own key; only the SHA-256 is stored.

    `verified_at` is when this session passed the second factor (TOTP or a recovery
    code); admin and finance pages refuse a session without it. `totp_failures` counts
    wrong codes on this session (membership/console/totp.py locks the account after a few)."""

    __tablename__ = "staff_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[timestamp]
    last_seen_at: Mapped[timestamp]
    verified_at: Mapped[optional_timestamp]
    revoked_at: Mapped[optional_timestamp]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class StaffTotp(Base):
    """A staff member's TOTP second factor: the secret sealed at rest (membership/sealing.py),
    `enrolled_at` empty while the person has been shown the key but has not yet proved
    their app by typing a code. `last_step` is the last accepted 30-second step, so a
    code is accepted once (an observed code cannot be replayed). Wrong codes are counted
    per account; after too many, `locked_until` refuses every code for a while."""

    __tablename__ = "staff_totp"

    id: Mapped[intpk]
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), unique=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[timestamp]
    enrolled_at: Mapped[optional_timestamp]
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[optional_timestamp]


class StaffRecoveryCode(Base):
    """One-time recovery codes for a lost authenticator: shown once at enrolment, stored
    as SHA-256 only, each used at most once (`used_at`)."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[intpk]
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[timestamp]
    used_at: Mapped[optional_timestamp]
