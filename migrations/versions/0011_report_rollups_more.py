"""more report roll-ups: MRR movements of closed months for churn and cohorts

Revision ID: 0011
Revises: 0010

`report_mrr_cells` (membership/reports/rollup_models.py, churn_rollup.py) and, on
PostgreSQL, statement triggers that mark the month of every subscription movement
written, changed or deleted, and of a subscription's movements when its plan interval
changes (the churn report counts plans by the subscription's interval as it is now).
The `mrr` source cascades: a mark makes its month and every later one live until the
next roll-up (reports/rollup.py). SQLite gets the table but no triggers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

EVENTS = "SELECT DISTINCT 'mrr', NULL::date, r.occurred_at FROM {rows} r"
EVENT_CHANGED = (
    "SELECT DISTINCT 'mrr', NULL::date, x.at FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "CROSS JOIN LATERAL (VALUES (o.occurred_at), (n.occurred_at)) AS x(at) "
    "WHERE (o.occurred_at, o.mrr_delta_minor, o.stream, o.kind, o.currency, o.reader_id, o.subscription_id) "
    "IS DISTINCT FROM (n.occurred_at, n.mrr_delta_minor, n.stream, n.kind, n.currency, n.reader_id, "
    "n.subscription_id)")
INTERVAL_CHANGED = (
    "SELECT 'mrr', NULL::date, min(e.occurred_at) FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "JOIN subscription_events e ON e.subscription_id = n.id WHERE o.interval IS DISTINCT FROM n.interval "
    "HAVING min(e.occurred_at) IS NOT NULL")
TRIGGERS = [
    ("report_dirty_mrr_ins", "subscription_events", "INSERT", EVENTS.format(rows="new_rows")),
    ("report_dirty_mrr_upd", "subscription_events", "UPDATE", EVENT_CHANGED),
    ("report_dirty_mrr_del", "subscription_events", "DELETE", EVENTS.format(rows="old_rows")),
    ("report_dirty_mrr_plan", "subscriptions", "UPDATE", INTERVAL_CHANGED),
]


def _create_trigger(name: str, table: str, event: str, select: str) -> None:
    """As in 0009: one function and one statement trigger per event, with transition tables."""
    referencing = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows"}.get(
        event, "OLD TABLE AS old_rows NEW TABLE AS new_rows")
    op.execute(f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (source, month, at, marked_at) SELECT m.*, now() FROM ({select}) AS m;
    RETURN NULL;
END $$""")
    op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def upgrade() -> None:
    op.create_table("report_mrr_cells",
                    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                              nullable=False),
                    sa.Column("stream", sa.String(32), nullable=False),
                    sa.Column("month", sa.Date(), nullable=False),
                    sa.Column("measure", sa.String(16), nullable=False),
                    sa.Column("cohort", sa.Date(), nullable=True),
                    sa.Column("kind", sa.String(32), nullable=True),
                    sa.Column("interval", sa.String(16), nullable=True),
                    sa.Column("currency", sa.String(3), nullable=True),
                    sa.Column("value", sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_report_mrr_cells")))
    op.create_index("ix_report_mrr_cells_stream_month", "report_mrr_cells", ["stream", "month"])
    if op.get_bind().dialect.name == "postgresql":
        for trigger in TRIGGERS:
            _create_trigger(*trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _event, _select in reversed(TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_report_mrr_cells_stream_month", table_name="report_mrr_cells")
    op.drop_table("report_mrr_cells")
