"""Readers, the evidence of what they consented to, their sign-in tokens and sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import has_request_context
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, intpk, optional_timestamp, str_enum, timestamp
from membership.i18n import DEFAULT_LANGUAGE, select_language


def language_of_the_request() -> str:
    """A reader created by a page or an API call reads that request's language (?lang=,
    the cookie, Accept-Language: membership/i18n.py), whichever path created them (sign-up,
    join, donate, gift); one created by a command or an import reads the default."""
    return select_language() if has_request_context() else DEFAULT_LANGUAGE


class Reader(Base):
    """A person who reads, pays or gives. Erasure blanks PII but keeps the row.

    Emails are stored lower-cased (a CHECK enforces it) so uniqueness is
    case-insensitive on every database without functional indexes.
    """

    __tablename__ = "readers"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[timestamp]
    email_verified_at: Mapped[optional_timestamp]
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    deleted_at: Mapped[optional_timestamp]
    # Staff-only remarks about the reader (a member import's "note"); erased with the reader.
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The language the reader reads (membership/i18n.py): set from the page they signed up
    # on or switched to (readers/pages/language.py), and the language of every mail they get.
    language: Mapped[str] = mapped_column(String(8), default=language_of_the_request, server_default="en")


class ReaderLabel(Base):
    """A free-text tag on a reader ("VIP", "print subscriber"), kept from an import or
    set by staff, so a campaign can target everyone with one label (Segment.LABEL).

    A row per (reader, label) rather than an array column: the segment is then one
    indexed EXISTS on PostgreSQL and SQLite alike.
    """

    __tablename__ = "reader_labels"
    __table_args__ = (UniqueConstraint("reader_id", "label"), Index("ix_reader_labels_label", "label"))

    id: Mapped[intpk]
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[timestamp]


class ConsentKind(StrEnum):
    TERMS = "terms"
    AUTO_RENEWAL = "auto_renewal"
    NEWSLETTER = "newsletter"
    MARKETING = "marketing"


class Consent(Base):
    """Evidence of consent (GDPR Art. 7, California ARL): kept >= 3 years, never edited."""

    __tablename__ = "consents"

    id: Mapped[intpk]
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind))
    text_version: Mapped[str] = mapped_column(String(64))
    price_shown_minor: Mapped[int | None]
    price_shown_currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[timestamp]


class TokenPurpose(StrEnum):
    CONFIRM = "confirm"
    SIGN_IN = "sign_in"


class LoginToken(Base):
    """A magic-link token: only its SHA-256 is stored; single use; short-lived.

    `reader_id` is empty on decoys: rows written, born used, for sign-in requests to
    addresses without an account, so both cost the same (readers/services.py).
    """

    __tablename__ = "login_tokens"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose))
    expires_at: Mapped[datetime]
    used_at: Mapped[optional_timestamp]
    created_at: Mapped[timestamp]


class ReaderSession(Base):
    """One signed-in browser (identity/sessions.py says why a row, not a cookie stamp).

    The cookie carries a random id; only its SHA-256 is stored, so a copy of this table
    cannot be replayed as cookies. `created_at` is the sign-in itself: the 30-day
    absolute limit and the 15-minute "recent sign-in" rule both count from it.
    """

    __tablename__ = "reader_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    created_at: Mapped[timestamp]
    last_seen_at: Mapped[timestamp]
    revoked_at: Mapped[optional_timestamp]
