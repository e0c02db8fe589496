"""reader sessions held on the server (revocable), notice secrets encrypted at rest, erasure of delivery and webhook personal data

Sessions: one `reader_sessions` row per signed-in browser replaces the per-reader
`readers.sessions_revoked_at` stamp (membership/readers/sessions.py says why). Cookies
issued before this revision name no row, so every reader signs in once more after the
upgrade; that is the point of making sessions revocable.

Sign-in timing: `login_tokens.reader_id` becomes nullable for decoy tokens (requests for
addresses without an account do the same work; readers/services.py). Downgrading
deletes the decoys, which never sign anyone in.

Notice secrets and erasure need no schema change: secrets stay in `notices.context`,
encrypted (membership/mail/secrets.py), and erasure rewrites existing columns.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reader_sessions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("reader_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"], name=op.f("fk_reader_sessions_reader_id_readers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_reader_sessions_token_hash")),
    )
    op.create_index(op.f("ix_reader_sessions_reader_id"), "reader_sessions", ["reader_id"], unique=False)
    with op.batch_alter_table("readers") as batch:
        batch.drop_column("sessions_revoked_at")
    with op.batch_alter_table("login_tokens") as batch:
        batch.alter_column("reader_id", existing_type=_ID, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM login_tokens WHERE reader_id IS NULL")
    with op.batch_alter_table("login_tokens") as batch:
        batch.alter_column("reader_id", existing_type=_ID, nullable=False)
    with op.batch_alter_table("readers") as batch:
        batch.add_column(sa.Column("sessions_revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index(op.f("ix_reader_sessions_reader_id"), table_name="reader_sessions")
    op.drop_table("reader_sessions")
