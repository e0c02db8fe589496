"""Staff users, their API tokens, and the audit log of what staff did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
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

    id: Mapped[intpk]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, object]] = mapped_column(JSONType, default=dict)
    at: Mapped[timestamp] = mapped_column(index=True)
