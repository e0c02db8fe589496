"""member import: labels on readers (usable in segments), import runs and their evidence

Revision ID: 0012
Revises: 0011

- `reader_labels`: one row per (reader, label); indexed by label for the LABEL segment.
- `readers.note`: staff-only remarks (Ghost's "note" column), empty by default.
- `member_imports`: one row per applied import (file hash, source, counts).
- `campaigns.segment_label` and the segment CHECK widened with `label` (a VARCHAR plus a
  CHECK, as `str_enum` draws it; batch mode on SQLite, which cannot alter a CHECK).

Downgrade: campaigns aimed at a label cannot be expressed in the old schema. Unsent ones
are cancelled (never widened to every subscriber); sent ones keep their history under
`all_confirmed`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHECK = "ck_campaigns_segment"
OLD_SEGMENTS = ("all_confirmed", "paying_members", "donors", "free_readers", "tier")
NEW_SEGMENTS = (*OLD_SEGMENTS, "label")


def _in(values: tuple[str, ...]) -> str:
    return "segment IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table("reader_labels",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("reader_id", ID, nullable=False),
                    sa.Column("label", sa.String(100), nullable=False),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(["reader_id"], ["readers.id"],
                                            name=op.f("fk_reader_labels_reader_id_readers")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_labels")),
                    sa.UniqueConstraint("reader_id", "label", name=op.f("uq_reader_labels_reader_id_label")))
    op.create_index("ix_reader_labels_label", "reader_labels", ["label"])
    op.create_table("member_imports",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("source", sa.String(32), nullable=False),
                    sa.Column("file_name", sa.String(255), nullable=False),
                    sa.Column("file_sha256", sa.String(64), nullable=False),
                    sa.Column("data_rows", sa.BigInteger(), nullable=False),
                    sa.Column("readers_created", sa.BigInteger(), nullable=False),
                    sa.Column("readers_updated", sa.BigInteger(), nullable=False),
                    sa.Column("rejected", sa.BigInteger(), nullable=False),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_member_imports")))
    with op.batch_alter_table("readers") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("segment_label", sa.String(100), nullable=True))
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), _in(NEW_SEGMENTS))


def downgrade() -> None:
    op.execute("UPDATE campaigns SET status = 'cancelled' "
               "WHERE segment = 'label' AND status NOT IN ('sent', 'cancelled')")
    op.execute("UPDATE campaigns SET segment = 'all_confirmed' WHERE segment = 'label'")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), _in(OLD_SEGMENTS))
        batch.drop_column("segment_label")
    with op.batch_alter_table("readers") as batch:
        batch.drop_column("note")
    op.drop_table("member_imports")
    op.drop_index("ix_reader_labels_label", table_name="reader_labels")
    op.drop_table("reader_labels")
