"""staff console: staff sessions, sign-in links, TOTP second factor, recovery codes; member search by name

Member search (membership/console/members_search.py, which declares the index): names
are matched anywhere (ILIKE '%text%') through a trigram GIN index on name (pg_trgm; on
SQLite, the embedded default, the same index is a plain btree). Emails and Stripe ids use their existing btrees. A member's page lists the audit
entries naming them (`ix_audit_log_target`).

Console sessions get their own table (`staff_sessions`), never readers': a reader's
session cannot open a staff page, nor the reverse. Sign-in links for staff are their own
table too (`staff_sign_in_links`), so a staff link cannot sign a reader in. The TOTP
secret is sealed (membership/sealing.py); recovery codes are stored as SHA-256 only.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def _staff_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"],
                                   name=op.f(f"fk_{table}_staff_user_id_staff_users"))


def upgrade() -> None:
    op.create_table(
        "staff_sign_in_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", _ID, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        _staff_fk("staff_sign_in_links"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sign_in_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sign_in_links_token_hash")),
    )
    op.create_index(op.f("ix_staff_sign_in_links_staff_user_id"), "staff_sign_in_links", ["staff_user_id"])
    op.create_table(
        "staff_sessions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", _ID, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("last_seen_at", _AT, nullable=False),
        sa.Column("verified_at", _AT, nullable=True),
        sa.Column("revoked_at", _AT, nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        _staff_fk("staff_sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index(op.f("ix_staff_sessions_staff_user_id"), "staff_sessions", ["staff_user_id"])
    op.create_table(
        "staff_totp",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("staff_user_id", _ID, nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("enrolled_at", _AT, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _AT, nullable=True),
        _staff_fk("staff_totp"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_totp")),
        sa.UniqueConstraint("staff_user_id", name=op.f("uq_staff_totp_staff_user_id")),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("staff_user_id", _ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        _staff_fk("staff_recovery_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_staff_recovery_codes_staff_user_id"), "staff_recovery_codes", ["staff_user_id"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_readers_name_trgm", "readers", ["name"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops"})


def downgrade() -> None:
    op.drop_index("ix_readers_name_trgm", table_name="readers")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_index(op.f("ix_staff_recovery_codes_staff_user_id"), table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_totp")
    op.drop_index(op.f("ix_staff_sessions_staff_user_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_index(op.f("ix_staff_sign_in_links_staff_user_id"), table_name="staff_sign_in_links")
    op.drop_table("staff_sign_in_links")
