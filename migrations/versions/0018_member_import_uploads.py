"""member import uploads: the staff console's uploaded exports awaiting confirmation

Revision ID: 0018
Revises: 0017

- `member_import_uploads`: the file's bytes, its source and column map, bound to the
  console session that uploaded it (deleted with it), and when it expires. A row is
  deleted when its import is confirmed, in the same transaction
  (membership/readers/importing/uploads.py says why a row and not a file).

Downgrade: drops the table; uploads not yet confirmed are lost (they are re-uploadable).
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member_import_uploads",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("staff_session_id", _ID, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("column_map", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["staff_session_id"], ["staff_sessions.id"], ondelete="CASCADE",
                                name=op.f("fk_member_import_uploads_staff_session_id_staff_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_import_uploads")),
    )
    op.create_index(op.f("ix_member_import_uploads_staff_session_id"), "member_import_uploads",
                    ["staff_session_id"])
    op.create_index(op.f("ix_member_import_uploads_expires_at"), "member_import_uploads", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_member_import_uploads_expires_at"), table_name="member_import_uploads")
    op.drop_index(op.f("ix_member_import_uploads_staff_session_id"), table_name="member_import_uploads")
    op.drop_table("member_import_uploads")
