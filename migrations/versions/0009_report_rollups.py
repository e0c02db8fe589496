"""finance report roll-ups: closed months summed once

Revision ID: 0009
Revises: 0008

Tables of membership/reports/rollup_models.py, a partial index on the revenue schedules
recognition has not finished (the waterfall reads their deferred part live, and the
recognition job's own `_pending` query is exactly that filter), and, on PostgreSQL,
statement-level triggers that record which rolled month a late change touched
(`report_dirty`; reports read such a month live until it is re-rolled). SQLite gets the
tables but no triggers: its reports never read roll-ups (reports/rollup.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# (trigger name, table, event, the SELECT of (source, month, at) rows to mark)
JOURNAL_BY_ENTRY = ("SELECT DISTINCT 'journal', t.period, NULL::timestamptz FROM {rows} r "
                    "JOIN journal_transactions t ON t.id = r.transaction_id")
JOURNAL_BY_GROUP = "SELECT DISTINCT 'journal', r.period, NULL::timestamptz FROM {rows} r"
SCHEDULES = ("SELECT DISTINCT 'schedules', NULL::date, p.paid_at FROM {rows} r "
             "JOIN payments p ON p.id = r.payment_id")
SCHEDULE_CHANGED = (
    "SELECT DISTINCT 'schedules', NULL::date, p.paid_at FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "JOIN payments p ON p.id IN (o.payment_id, n.payment_id) "
    "WHERE (o.amount_minor, o.reversed_minor, o.service_start, o.service_end, o.payment_id, o.currency, o.stream) "
    "IS DISTINCT FROM (n.amount_minor, n.reversed_minor, n.service_start, n.service_end, n.payment_id, n.currency, "
    "n.stream)")  # recognition only moves recognized_*: it must not dirty a month every night
PAID_AT_CHANGED = (
    "SELECT DISTINCT 'schedules', NULL::date, x.paid_at FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "CROSS JOIN LATERAL (VALUES (o.paid_at), (n.paid_at)) AS x(paid_at) WHERE o.paid_at IS DISTINCT FROM n.paid_at")
TRIGGERS = [
    ("report_dirty_entries_ins", "ledger_entries", "INSERT", JOURNAL_BY_ENTRY.format(rows="new_rows")),
    ("report_dirty_entries_upd_old", "ledger_entries", "UPDATE", JOURNAL_BY_ENTRY.format(rows="old_rows")),
    ("report_dirty_entries_upd_new", "ledger_entries", "UPDATE", JOURNAL_BY_ENTRY.format(rows="new_rows")),
    ("report_dirty_entries_del", "ledger_entries", "DELETE", JOURNAL_BY_ENTRY.format(rows="old_rows")),
    ("report_dirty_groups_upd_old", "journal_transactions", "UPDATE", JOURNAL_BY_GROUP.format(rows="old_rows")),
    ("report_dirty_groups_upd_new", "journal_transactions", "UPDATE", JOURNAL_BY_GROUP.format(rows="new_rows")),
    ("report_dirty_groups_del", "journal_transactions", "DELETE", JOURNAL_BY_GROUP.format(rows="old_rows")),
    ("report_dirty_schedules_ins", "revenue_schedules", "INSERT", SCHEDULES.format(rows="new_rows")),
    ("report_dirty_schedules_upd", "revenue_schedules", "UPDATE", SCHEDULE_CHANGED),
    ("report_dirty_schedules_del", "revenue_schedules", "DELETE", SCHEDULES.format(rows="old_rows")),
    ("report_dirty_payments_upd", "payments", "UPDATE", PAID_AT_CHANGED),
]


def _create_trigger(name: str, table: str, event: str, select: str) -> None:
    """One function and one trigger per event: PostgreSQL allows transition tables only
    on single-event triggers (and an UPDATE trigger gets one of old/new per clause here)."""
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
    op.create_table("report_rollups",
                    sa.Column("source", sa.String(16), nullable=False),
                    sa.Column("month", sa.Date(), nullable=False),
                    sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("source", "month", name=op.f("pk_report_rollups")))
    op.create_table("report_dirty",
                    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                              nullable=False),
                    sa.Column("source", sa.String(16), nullable=False),
                    sa.Column("month", sa.Date(), nullable=True),
                    sa.Column("at", sa.DateTime(timezone=True), nullable=True),
                    sa.Column("marked_at", sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_report_dirty")))
    op.create_table("report_cash_cells",
                    _id(), sa.Column("period", sa.Date(), nullable=False),
                    sa.Column("kind", sa.String(64), nullable=False), sa.Column("stream", sa.String(32), nullable=True),
                    sa.Column("currency", sa.String(3), nullable=False),
                    *_bigints("clearing_minor", "processor_fees_minor", "dispute_fees_minor"),
                    sa.Column("groups", sa.Integer(), nullable=False), sa.Column("payers", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_report_cash_cells")))
    op.create_index("ix_report_cash_cells_period", "report_cash_cells", ["period"])
    op.create_table("report_cash_payers",
                    sa.Column("currency", sa.String(3), nullable=False), sa.Column("year", sa.Integer(), nullable=False),
                    sa.Column("reader_id", sa.BigInteger(), nullable=False),
                    sa.Column("months", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("currency", "year", "reader_id", name=op.f("pk_report_cash_payers")))
    op.create_table("report_deferred_moves",
                    _id(), sa.Column("period", sa.Date(), nullable=False),
                    sa.Column("currency", sa.String(3), nullable=False),
                    sa.Column("stream", sa.String(32), nullable=True), sa.Column("kind", sa.String(64), nullable=False),
                    *_bigints("amount_minor"),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deferred_moves")))
    op.create_index("ix_report_deferred_moves_period", "report_deferred_moves", ["period"])
    op.create_table("report_waterfall_rows",
                    _id(), sa.Column("billing_month", sa.Date(), nullable=False),
                    sa.Column("currency", sa.String(3), nullable=False),
                    sa.Column("stream", sa.String(32), nullable=False), sa.Column("lines", sa.Integer(), nullable=False),
                    *_bigints("billed_minor", "reversed_minor"),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_report_waterfall_rows")))
    op.create_index("ix_report_waterfall_rows_billing_month", "report_waterfall_rows", ["billing_month"])
    op.create_table("report_waterfall_cells",
                    _id(), sa.Column("billing_month", sa.Date(), nullable=False),
                    sa.Column("currency", sa.String(3), nullable=False),
                    sa.Column("stream", sa.String(32), nullable=False),
                    sa.Column("service_month", sa.Date(), nullable=False), *_bigints("amount_minor"),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_report_waterfall_cells")))
    op.create_index("ix_report_waterfall_cells_billing_month", "report_waterfall_cells", ["billing_month"])
    op.create_table("report_waterfall_pending",
                    sa.Column("schedule_id", sa.BigInteger(), autoincrement=False, nullable=False),
                    sa.Column("billing_month", sa.Date(), nullable=False),
                    sa.PrimaryKeyConstraint("schedule_id", name=op.f("pk_report_waterfall_pending")))
    op.create_index("ix_report_waterfall_pending_billing_month", "report_waterfall_pending", ["billing_month"])
    op.create_index("ix_revenue_schedules_pending", "revenue_schedules", ["payment_id"],
                    postgresql_include=["amount_minor", "reversed_minor", "recognized_minor"],
                    postgresql_where=sa.text("recognized_minor <> amount_minor - reversed_minor"),
                    sqlite_where=sa.text("recognized_minor <> amount_minor - reversed_minor"))
    if op.get_bind().dialect.name == "postgresql":
        for trigger in TRIGGERS:
            _create_trigger(*trigger)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False)


def _bigints(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _event, _select in reversed(TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_revenue_schedules_pending", table_name="revenue_schedules")
    for table in ("report_waterfall_pending", "report_waterfall_cells", "report_waterfall_rows", "report_deferred_moves", "report_cash_payers",
                  "report_cash_cells", "report_dirty", "report_rollups"):
        op.drop_table(table)
