"""stripe adoption: runs and their per-list checkpoints (`flask stripe adopt`)

Revision ID: 0014
Revises: 0013

- `stripe_adoption_runs`: one row per adoption (its adoption date, when it finished,
  the summary it printed).
- `stripe_adoption_checkpoints`: per run and list (products, prices, customers, ...),
  the oldest Stripe id handled (`starting_after` for resuming), the newest
  (`ending_before`, for objects created while the walk ran) and the count.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table("stripe_adoption_runs",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("started_at", WHEN, nullable=False),
                    sa.Column("adopted_at", WHEN, nullable=False),
                    sa.Column("finished_at", WHEN, nullable=True),
                    sa.Column("donation_products", sa.Text(), nullable=False),
                    sa.Column("summary", sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_adoption_runs")))
    op.create_table("stripe_adoption_checkpoints",
                    sa.Column("id", ID, autoincrement=True, nullable=False),
                    sa.Column("run_id", ID, nullable=False),
                    sa.Column("resource", sa.String(32), nullable=False),
                    sa.Column("starting_after", sa.String(255), nullable=True),
                    sa.Column("ending_before", sa.String(255), nullable=True),
                    sa.Column("seen", sa.BigInteger(), nullable=False),
                    sa.Column("finished_at", WHEN, nullable=True),
                    sa.Column("updated_at", WHEN, nullable=False),
                    sa.ForeignKeyConstraint(["run_id"], ["stripe_adoption_runs.id"],
                                            name=op.f("fk_stripe_adoption_checkpoints_run_id_stripe_adoption_runs")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_adoption_checkpoints")),
                    sa.UniqueConstraint("run_id", "resource",
                                        name=op.f("uq_stripe_adoption_checkpoints_run_id_resource")))


def downgrade() -> None:
    op.drop_table("stripe_adoption_checkpoints")
    op.drop_table("stripe_adoption_runs")
