"""journal export: a stored copy of each rolled month's journals

Revision ID: 0015
Revises: 0014

`report_export_journals` and `report_export_months` (membership/reports/rollup_models.py,
journal_store.py): the journal export of a rolled, clean month is read from this copy,
built when the `journal` source rolls. Months rolled before this migration have no
copy, so their `journal` roll-ups are forgotten: the next roll-up (hourly) rebuilds
them with their copy, and until then cash summary and deferred revenue read them live
(same numbers). Arrays on PostgreSQL; SQLite gets JSON columns it never writes.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _array(item: sa.types.TypeEngine) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.JSON().with_variant(postgresql.ARRAY(item), "postgresql")


def upgrade() -> None:
    op.create_table("report_export_journals",
                    sa.Column("month", sa.Date(), nullable=False),
                    sa.Column("currency", sa.String(3), nullable=False),
                    sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("journal_id", sa.BigInteger(), nullable=False),
                    sa.Column("reader_id", sa.BigInteger(), nullable=True),
                    sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("memo", sa.Text(), nullable=False),
                    sa.Column("accounts", _array(sa.SmallInteger()), nullable=False),
                    sa.Column("amounts", _array(sa.BigInteger()), nullable=False),
                    sa.PrimaryKeyConstraint("month", "currency", "seq", name=op.f("pk_report_export_journals")))
    op.create_table("report_export_months",
                    sa.Column("month", sa.Date(), nullable=False),
                    sa.Column("currency", sa.String(3), nullable=False),
                    sa.Column("layout", sa.String(128), nullable=False),
                    sa.Column("refused", sa.Boolean(), nullable=False),
                    sa.PrimaryKeyConstraint("month", "currency", name=op.f("pk_report_export_months")))
    op.execute("DELETE FROM report_rollups WHERE source = 'journal'")


def downgrade() -> None:
    op.drop_table("report_export_months")
    op.drop_table("report_export_journals")
