"""API keys, signing keys, outbound webhook endpoints, events and deliveries

Revision ID: 0010
Revises: 0009

Tables of membership/integrations/models.py. Deliveries are read by line (endpoint,
reader, status, id: the head of a member's line is one index lookup) and by due time
(the sweeper); the delivery log by endpoint, newest first.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table("api_keys",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("name", sa.String(100), nullable=False),
                    sa.Column("prefix", sa.String(16), nullable=False),
                    sa.Column("key_hash", sa.String(64), nullable=False),
                    sa.Column("scopes", JSON, nullable=False),
                    sa.Column("created_by", sa.String(320), nullable=False),
                    _at("created_at"), _at("last_used_at", True), _at("revoked_at", True),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
                    sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
                    sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")))
    op.create_table("signing_keys",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("kid", sa.String(64), nullable=False),
                    sa.Column("algorithm", sa.String(16), nullable=False),
                    sa.Column("public_jwk", JSON, nullable=False),
                    sa.Column("private_sealed", sa.Text(), nullable=False),
                    _at("created_at"), _at("retired_at", True), _at("publish_until", True),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
                    sa.UniqueConstraint("kid", name=op.f("uq_signing_keys_kid")))
    op.create_table("outbound_endpoints",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("url", sa.String(2000), nullable=False),
                    sa.Column("description", sa.String(200), nullable=False),
                    sa.Column("event_types", JSON, nullable=False),
                    sa.Column("scopes", JSON, nullable=False),
                    sa.Column("secret_sealed", sa.Text(), nullable=False),
                    sa.Column("consecutive_failures", sa.BigInteger(), nullable=False),
                    sa.Column("created_by", sa.String(320), nullable=False),
                    _at("created_at"), _at("disabled_at", True),
                    sa.Column("disabled_reason", sa.String(200), nullable=True),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_endpoints")))
    op.create_table("outbound_events",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("type", sa.String(64), nullable=False),
                    sa.Column("reader_id", ID, nullable=False),
                    sa.Column("data", JSON, nullable=False),
                    _at("occurred_at"),
                    sa.ForeignKeyConstraint(["reader_id"], ["readers.id"],
                                            name=op.f("fk_outbound_events_reader_id_readers")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_events")))
    op.create_index(op.f("ix_outbound_events_reader_id"), "outbound_events", ["reader_id"])
    op.create_table("outbound_deliveries",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("endpoint_id", ID, nullable=False),
                    sa.Column("event_id", ID, nullable=False),
                    sa.Column("reader_id", ID, nullable=False),
                    sa.Column("status", sa.Enum("pending", "delivered", "failed", name="deliverystatus",
                                                native_enum=False, create_constraint=True, length=32), nullable=False),
                    sa.Column("attempts", sa.BigInteger(), nullable=False),
                    _at("next_attempt_at"),
                    sa.Column("last_status_code", sa.BigInteger(), nullable=True),
                    sa.Column("last_error", sa.String(500), nullable=True),
                    _at("delivered_at", True), _at("created_at"),
                    sa.ForeignKeyConstraint(["endpoint_id"], ["outbound_endpoints.id"],
                                            name=op.f("fk_outbound_deliveries_endpoint_id_outbound_endpoints")),
                    sa.ForeignKeyConstraint(["event_id"], ["outbound_events.id"],
                                            name=op.f("fk_outbound_deliveries_event_id_outbound_events")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_deliveries")),
                    sa.UniqueConstraint("endpoint_id", "event_id", name=op.f("uq_outbound_deliveries_endpoint_id_event_id")))
    op.create_index(op.f("ix_outbound_deliveries_event_id"), "outbound_deliveries", ["event_id"])
    op.create_index("ix_outbound_deliveries_line", "outbound_deliveries", ["endpoint_id", "reader_id", "status", "id"])
    op.create_index("ix_outbound_deliveries_due", "outbound_deliveries", ["status", "next_attempt_at"])
    op.create_table("outbound_attempts",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("delivery_id", ID, nullable=False),
                    sa.Column("endpoint_id", ID, nullable=False),
                    _at("attempted_at"),
                    sa.Column("status_code", sa.BigInteger(), nullable=True),
                    sa.Column("error", sa.String(500), nullable=True),
                    sa.Column("duration_ms", sa.BigInteger(), nullable=False),
                    sa.ForeignKeyConstraint(["delivery_id"], ["outbound_deliveries.id"],
                                            name=op.f("fk_outbound_attempts_delivery_id_outbound_deliveries")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_attempts")))
    op.create_index(op.f("ix_outbound_attempts_delivery_id"), "outbound_attempts", ["delivery_id"])
    op.create_index("ix_outbound_attempts_endpoint_id_id", "outbound_attempts", ["endpoint_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbound_attempts_endpoint_id_id", table_name="outbound_attempts")
    op.drop_index(op.f("ix_outbound_attempts_delivery_id"), table_name="outbound_attempts")
    op.drop_table("outbound_attempts")
    op.drop_index("ix_outbound_deliveries_due", table_name="outbound_deliveries")
    op.drop_index("ix_outbound_deliveries_line", table_name="outbound_deliveries")
    op.drop_index(op.f("ix_outbound_deliveries_event_id"), table_name="outbound_deliveries")
    op.drop_table("outbound_deliveries")
    op.drop_index(op.f("ix_outbound_events_reader_id"), table_name="outbound_events")
    op.drop_table("outbound_events")
    op.drop_table("outbound_endpoints")
    op.drop_table("signing_keys")
    op.drop_table("api_keys")
