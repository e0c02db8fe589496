"""API keys, token-signing keys, outbound webhook endpoints, and the outbox.

Why the outbox is three tables: an event is a fact about one reader, written in the
transaction that changed the fact (`outbound_events`); each endpoint that wants its type
gets its own delivery row (`outbound_deliveries`), so one endpoint's outage never holds
another back; every try is a line in the delivery log (`outbound_attempts`) with the
response code, which is what an admin reads when a receiver misbehaves. Event rows carry
ids and non-personal facts only: names and addresses are read at delivery time and only
for endpoints whose scope allows them, so an erased reader is never re-sent from an old row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from membership.db import Base, BigIntType, JSONType, UTCDateTime, intpk, optional_timestamp, str_enum, timestamp


class ApiKey(Base):
    """A server-to-server key (the site's back end, a CRM). Only its SHA-256 is stored;
    `prefix` (the first characters) lets an admin tell keys apart without the secret."""

    __tablename__ = "api_keys"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[timestamp]
    last_used_at: Mapped[optional_timestamp]
    revoked_at: Mapped[optional_timestamp]


class SigningKey(Base):
    """An Ed25519 key pair for entitlement tokens. The private half is sealed under a key
    derived from SECRET_KEY; `retired_at` stops it signing, `publish_until` is when its
    public half leaves the JWKS (after the last token it signed has expired)."""

    __tablename__ = "signing_keys"

    id: Mapped[intpk]
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONType)
    private_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[timestamp]
    retired_at: Mapped[optional_timestamp]
    publish_until: Mapped[optional_timestamp]


class OutboundEndpoint(Base):
    """A receiver an admin added, with the event types and the scopes it gets."""

    __tablename__ = "outbound_endpoints"

    id: Mapped[intpk]
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    secret_sealed: Mapped[str] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[timestamp]
    disabled_at: Mapped[optional_timestamp]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))


class OutboundEvent(Base):
    """One fact about one reader, in the order it was written (the id)."""

    __tablename__ = "outbound_events"

    id: Mapped[intpk]
    type: Mapped[str] = mapped_column(String(64))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[timestamp]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class OutboundDelivery(Base):
    """One event for one endpoint. `reader_id` is copied from the event so the head of
    each (endpoint, reader) line is one indexed lookup: delivery is in order per member."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_outbound_deliveries_line", "endpoint_id", "reader_id", "status", "id"),
        Index("ix_outbound_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[intpk]
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("outbound_endpoints.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbound_events.id"), index=True)
    reader_id: Mapped[int] = mapped_column(BigIntType)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[optional_timestamp]
    created_at: Mapped[timestamp]

    event: Mapped[OutboundEvent] = relationship()


class OutboundAttempt(Base):
    """The delivery log: one line per try, with what the receiver answered."""

    __tablename__ = "outbound_attempts"
    __table_args__ = (Index("ix_outbound_attempts_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[intpk]
    delivery_id: Mapped[int] = mapped_column(ForeignKey("outbound_deliveries.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(BigIntType)
    attempted_at: Mapped[timestamp]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)
