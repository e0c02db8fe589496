"""The synthetic outlet bench/reports.py measures: three years of readers, money and
journal, written by server-side SQL (INSERT ... SELECT over generate_series), so 100k
readers seed in about a minute instead of an hour of Python row loops.

Shape (fractions of readers; every draw is random() after setseed, so a run is repeatable):
- 30% are the installed base (joined in January 2024), the rest join uniformly over
  2024-01-01 .. 2027-01-01.
- 70% monthly members (5/8/10/15 a month), 12% annual members (50/100 a year), 8%
  monthly recurring donors (5/10/25/50), 10% one-time donors (1-3 gifts of 25-250).
- Currencies: 85% USD, 10% EUR, 5% GBP.
- Churn: monthly members 2.5% a month, recurring donors 3%, annual members 25% at each
  renewal; 70% voluntary, 30% delinquent. 1.5% of the monthly subscriptions alive at
  the end are past_due (the exceptions worklist).
- 8% of monthly members expand (+3), 5% contract (-2) once; 20% of churned monthly
  subscribers come back 1-6 months later on a new subscription (a reactivation).
- One payment per paid period (gross, fee 2.9% + 30, net), one charge journal group
  each (clearing net, fees, deferred revenue for memberships / donation revenue),
  one revenue schedule per membership payment and one recognition group per month
  (deferred -> membership revenue per currency, cumulative-floor days like
  membership/ledger/recognition.py). 1% of payments refunded in full within 5 days
  (schedule reversed), 0.1% of monthly payments disputed 35-65 days later (80% lost,
  20% won and reinstated; the last two months' still open). One payout per day and
  currency with one line per balance transaction and a payout journal group per
  stream; the last five days' payouts are not reconciled yet. Daily EUR/GBP -> USD rates.

The seed session runs with session_replication_role = replica (no FK or ledger-balance
triggers: the per-row deferred balance trigger of migration 0003 alone would take
minutes here); `check_balanced` then checks the same rule for every group in one query.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

T0 = "timestamptz '2024-01-01 00:00+00'"
T1 = "timestamptz '2027-01-01 00:00+00'"
TZ = "'America/Los_Angeles'"
LAST_CUT = "date '2026-12-31'"
TABLES = ("readers", "subscriptions", "subscription_events", "payments", "refunds", "disputes", "payouts",
          "payout_lines", "journal_transactions", "ledger_entries", "revenue_schedules", "fx_rates")


def _steps(readers: int) -> list[tuple[str, str]]:
    mrr = "CASE WHEN s.interval = 'year' THEN {p} / 12 ELSE {p} END"
    return [
        ("draws", f"""
CREATE TEMP TABLE seed_r AS
SELECT i AS id,
       CASE WHEN random() < 0.3 THEN {T0} + random() * interval '30 days'
            ELSE {T0} + random() * interval '1096 days' END AS joined_at,
       random() AS plan_r, random() AS cur_r, random() AS price_r, random() AS life_r, random() AS change_r,
       random() AS change_k_r, random() AS kind_r, random() AS react_r, random() AS gap_r, random() AS life2_r,
       random() AS due_r
FROM generate_series(1, {readers}) AS i"""),
        ("readers", """
INSERT INTO readers (id, email, name, created_at, email_verified_at, stripe_customer_id)
SELECT id, 'reader' || id || '@bench.example', 'Reader ' || id, joined_at, joined_at, 'cus_bench' || id FROM seed_r"""),
        ("plans", """
CREATE TEMP TABLE seed_p AS
SELECT r.*,
       CASE WHEN plan_r < 0.82 THEN 'membership' WHEN plan_r < 0.90 THEN 'recurring_donation'
            ELSE 'one_time_donation' END AS stream,
       CASE WHEN plan_r >= 0.70 AND plan_r < 0.82 THEN 'year' ELSE 'month' END AS interval,
       CASE WHEN cur_r < 0.85 THEN 'USD' WHEN cur_r < 0.95 THEN 'EUR' ELSE 'GBP' END AS currency,
       CASE WHEN plan_r < 0.70 THEN (ARRAY[500, 800, 1000, 1500])[1 + floor(price_r * 4)::int]
            WHEN plan_r < 0.82 THEN (ARRAY[5000, 10000])[1 + floor(price_r * 2)::int]
            WHEN plan_r < 0.90 THEN (ARRAY[500, 1000, 2500, 5000])[1 + floor(price_r * 4)::int]
            ELSE (ARRAY[2500, 5000, 10000, 25000])[1 + floor(price_r * 4)::int] END AS price,
       CASE WHEN plan_r < 0.70 THEN 0.025 WHEN plan_r < 0.82 THEN 0.25 ELSE 0.03 END AS churn_p
FROM seed_r r"""),
        ("subscription plan", """
CREATE TEMP TABLE seed_s AS
WITH a AS (
  SELECT p.*, CASE WHEN interval = 'year' THEN interval '1 year' ELSE interval '1 month' END AS step,
         CASE WHEN interval = 'year' THEN 2027 - extract(year FROM joined_at)::int
              ELSE (2027 - extract(year FROM joined_at)::int) * 12 + 1 - extract(month FROM joined_at)::int
         END AS avail,
         1 + floor(ln(1 - life_r) / ln(1 - churn_p))::int AS life
  FROM seed_p p WHERE stream <> 'one_time_donation')
SELECT id AS sid, id AS reader_id, stream, interval, currency, price, joined_at AS start_at, step,
       least(life, avail) AS paid, life < avail AS churned,
       CASE WHEN kind_r < 0.7 THEN 'churn_voluntary' ELSE 'churn_delinquent' END AS churn_kind,
       'new' AS first_kind,
       CASE WHEN stream = 'membership' AND interval = 'month' AND least(life, avail) >= 3 AND change_r < 0.13
            THEN 1 + floor(change_k_r * (least(life, avail) - 1))::int END AS change_k,
       CASE WHEN change_r < 0.08 THEN price + 300 ELSE greatest(price - 200, 300) END AS new_price,
       life >= avail AND interval = 'month' AND due_r < 0.015 AS past_due,
       react_r, gap_r, life2_r, churn_p
FROM a"""),
        ("reactivations", f"""
INSERT INTO seed_s
WITH a AS (
  SELECT s.*, s.start_at + s.paid * s.step + (1 + floor(s.gap_r * 6)::int) * interval '1 month' AS start2,
         CASE WHEN s.change_k IS NULL THEN s.price ELSE s.new_price END AS price2
  FROM seed_s s WHERE s.churned AND s.interval = 'month' AND s.react_r < 0.2),
b AS (
  SELECT a.*, (2027 - extract(year FROM start2)::int) * 12 + 1 - extract(month FROM start2)::int AS avail,
         1 + floor(ln(1 - life2_r) / ln(1 - churn_p))::int AS life
  FROM a WHERE start2 < {T1})
SELECT {readers} + row_number() OVER (ORDER BY sid), reader_id, stream, interval, currency, price2, start2, step,
       least(life, avail), life < avail, churn_kind, 'reactivation', NULL, price2, false, 1, 1, 1, churn_p
FROM b"""),
        ("subscriptions", f"""
INSERT INTO subscriptions (id, reader_id, stripe_subscription_id, stripe_price_id, stream, status, quantity,
    unit_amount_minor, currency, interval, interval_count, cancel_at_period_end, current_period_start,
    current_period_end, canceled_at, ended_at, paused, cancellation_reason, past_due_since, first_paid_at,
    mrr_minor, discount_minor, stripe_created_at, synced_at, created_at, updated_at)
SELECT s.sid, s.reader_id, 'sub_bench' || s.sid, 'price_bench_' || s.interval || '_' || f.price, s.stream,
       CASE WHEN s.churned THEN 'canceled' WHEN s.past_due THEN 'past_due' ELSE 'active' END, 1,
       f.price, s.currency, s.interval, 1, false, s.start_at + (s.paid - 1) * s.step, s.start_at + s.paid * s.step,
       CASE WHEN s.churned THEN s.start_at + s.paid * s.step END,
       CASE WHEN s.churned THEN s.start_at + s.paid * s.step END, false,
       CASE WHEN s.churned AND s.churn_kind = 'churn_voluntary' THEN 'cancellation_requested'
            WHEN s.churned THEN 'payment_failed' END,
       CASE WHEN s.past_due THEN s.start_at + s.paid * s.step END, s.start_at,
       CASE WHEN s.churned THEN 0 ELSE {mrr.format(p='f.price')} END, 0, s.start_at, {T1}, s.start_at, {T1}
FROM seed_s s CROSS JOIN LATERAL (SELECT CASE WHEN s.change_k IS NULL THEN s.price ELSE s.new_price END AS price) f"""),
        ("subscription_events", f"""
INSERT INTO subscription_events (subscription_id, reader_id, kind, stream, mrr_delta_minor, mrr_after_minor,
    discount_delta_minor, currency, occurred_at, dedupe_key, stripe_event_id, created_at)
SELECT s.sid, s.reader_id, e.kind, s.stream, e.delta, e.after, 0, s.currency, e.at,
       'bench:' || s.sid || ':' || e.kind, 'evt_bench_' || s.sid || '_' || e.kind, e.at
FROM seed_s s CROSS JOIN LATERAL (
  SELECT {mrr.format(p='s.price')} AS m0,
         {mrr.format(p='(CASE WHEN s.change_k IS NULL THEN s.price ELSE s.new_price END)')} AS m1) m
CROSS JOIN LATERAL (VALUES
  (s.first_kind, m.m0, m.m0, s.start_at),
  (CASE WHEN s.new_price > s.price THEN 'expansion' ELSE 'contraction' END, m.m1 - m.m0, m.m1,
   s.start_at + s.change_k * s.step),
  (s.churn_kind, -m.m1, 0, s.start_at + s.paid * s.step)) AS e(kind, delta, after, at)
WHERE (e.kind = s.first_kind OR e.kind LIKE 'churn%' OR s.change_k IS NOT NULL)
  AND (e.kind NOT LIKE 'churn%' OR s.churned) AND e.delta <> 0"""),
        ("payments", """
INSERT INTO payments (reader_id, subscription_id, stripe_charge_id, stripe_payment_intent_id, stripe_invoice_id,
    balance_transaction_id, stream, billing_reason, gross_minor, fee_minor, net_minor, currency,
    benefit_value_minor, service_period_start, service_period_end, paid_at, created_at)
SELECT s.reader_id, s.sid, 'ch_b' || s.sid || '_' || k, 'pi_b' || s.sid || '_' || k, 'in_b' || s.sid || '_' || k,
       'txn_ch_b' || s.sid || '_' || k, s.stream,
       CASE WHEN k = 0 THEN 'subscription_create' ELSE 'subscription_cycle' END,
       g.gross, g.gross * 29 / 1000 + 30, g.gross - (g.gross * 29 / 1000 + 30), s.currency, 0,
       s.start_at + k * s.step, s.start_at + (k + 1) * s.step, s.start_at + k * s.step, s.start_at + k * s.step
FROM seed_s s CROSS JOIN LATERAL generate_series(0, s.paid - 1) AS k
CROSS JOIN LATERAL (SELECT CASE WHEN s.change_k IS NOT NULL AND k >= s.change_k THEN s.new_price ELSE s.price END
                    AS gross) g"""),
        ("gifts", f"""
INSERT INTO payments (reader_id, stripe_charge_id, stripe_payment_intent_id, balance_transaction_id, stream,
    gross_minor, fee_minor, net_minor, currency, benefit_value_minor, paid_at, created_at)
SELECT p.id, 'ch_g' || p.id || '_' || g, 'pi_g' || p.id || '_' || g, 'txn_ch_g' || p.id || '_' || g,
       'one_time_donation', p.price, p.price * 29 / 1000 + 30, p.price - (p.price * 29 / 1000 + 30), p.currency,
       CASE WHEN p.price >= 10000 THEN 1000 ELSE 0 END, t.at, t.at
FROM seed_p p CROSS JOIN LATERAL generate_series(0, floor(p.life_r * 3)::int) AS g
CROSS JOIN LATERAL (SELECT p.joined_at + g * interval '1 day' * (150 + floor(p.change_k_r * 200)) AS at) t
WHERE p.stream = 'one_time_donation' AND t.at < {T1}"""),
        ("refunds", f"""
INSERT INTO refunds (payment_id, stripe_refund_id, balance_transaction_id, amount_minor, currency, status, reason,
    created_at, updated_at)
SELECT id, 're_b' || id, 'txn_re_b' || id, gross_minor, currency, 'succeeded', 'requested_by_customer', t.at, t.at
FROM payments CROSS JOIN LATERAL (SELECT paid_at + (1 + random() * 4) * interval '1 day' AS at) t
WHERE random() < 0.01 AND t.at < {T1}"""),
        ("disputes", f"""
INSERT INTO disputes (payment_id, stripe_dispute_id, amount_minor, fee_minor, currency, status, reason,
    funds_withdrawn_at, funds_reinstated_at, closed_at, created_at, updated_at)
SELECT p.id, 'dp_b' || p.id, p.gross_minor, 1500, p.currency, st.status, 'fraudulent', t.at,
       CASE WHEN st.status = 'won' THEN t.at + interval '30 days' END,
       CASE WHEN st.status IN ('won', 'lost') THEN t.at + interval '30 days' END, t.at, t.at
FROM payments p LEFT JOIN subscriptions s ON s.id = p.subscription_id
CROSS JOIN LATERAL (SELECT p.paid_at + (35 + random() * 30) * interval '1 day' AS at, random() AS won_r) t
CROSS JOIN LATERAL (SELECT CASE WHEN t.at > {T1} - interval '60 days' THEN 'needs_response'
                                WHEN t.won_r < 0.2 THEN 'won' ELSE 'lost' END AS status) st
WHERE coalesce(s.interval, 'month') = 'month' AND random() < 0.001 AND t.at < {T1}
  AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id)"""),
        ("revenue_schedules", f"""
INSERT INTO revenue_schedules (payment_id, stream, amount_minor, currency, service_start, service_end,
    recognized_minor, recognized_through, reversed_minor, created_at)
SELECT p.id, p.stream, p.gross_minor, p.currency, p.service_period_start, p.service_period_end,
       CASE WHEN r.id IS NULL THEN p.gross_minor::bigint * least(greatest({LAST_CUT} - d.d0 + 1, 0), d.d1 - d.d0)
                                   / (d.d1 - d.d0) ELSE 0 END,
       CASE WHEN r.id IS NULL AND d.d0 <= {LAST_CUT} THEN least({LAST_CUT}, d.d1 - 1) END,
       CASE WHEN r.id IS NULL THEN 0 ELSE p.gross_minor END, p.paid_at
FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id
CROSS JOIN LATERAL (SELECT (p.service_period_start AT TIME ZONE {TZ})::date AS d0,
                           (p.service_period_end AT TIME ZONE {TZ})::date AS d1) d
WHERE p.stream = 'membership'"""),
        ("charge groups", f"""
INSERT INTO journal_transactions (key, kind, occurred_at, period, memo, reader_id, payment_id, created_at)
SELECT 'charge:' || stripe_charge_id, 'charge', paid_at, date_trunc('month', paid_at AT TIME ZONE {TZ})::date,
       'charge ' || stripe_charge_id, reader_id, id, paid_at
FROM payments"""),
        ("charge lines", """
INSERT INTO ledger_entries (transaction_id, account, amount_minor, currency, stream)
SELECT t.id, l.account, l.amount, p.currency, p.stream
FROM journal_transactions t JOIN payments p ON p.id = t.payment_id
CROSS JOIN LATERAL (VALUES ('stripe_clearing', p.net_minor), ('processor_fees', p.fee_minor),
  (CASE WHEN p.stream = 'membership' THEN 'deferred_revenue' ELSE 'donation_revenue' END, -p.gross_minor))
  AS l(account, amount)
WHERE t.kind = 'charge'"""),
        ("balance transactions", f"""
CREATE TEMP TABLE seed_bt AS
SELECT balance_transaction_id AS bt, paid_at AS at, currency, stream, 'charge' AS type, 'charge' AS category,
       stripe_charge_id AS source_id, gross_minor AS amount, fee_minor AS fee, net_minor AS net, id AS payment_id
FROM payments
UNION ALL
SELECT r.balance_transaction_id, r.created_at, r.currency, p.stream, 'refund', 'refund', r.stripe_refund_id,
       -r.amount_minor, 0, -r.amount_minor, p.id
FROM refunds r JOIN payments p ON p.id = r.payment_id
UNION ALL
SELECT 'txn_dp_' || d.stripe_dispute_id, d.funds_withdrawn_at, d.currency, p.stream, 'adjustment', 'dispute',
       d.stripe_dispute_id, -d.amount_minor, d.fee_minor, -d.amount_minor - d.fee_minor, p.id
FROM disputes d JOIN payments p ON p.id = d.payment_id
UNION ALL
SELECT 'txn_dr_' || d.stripe_dispute_id, d.funds_reinstated_at, d.currency, p.stream, 'adjustment',
       'dispute_reversal', d.stripe_dispute_id, d.amount_minor, -d.fee_minor, d.amount_minor + d.fee_minor, p.id
FROM disputes d JOIN payments p ON p.id = d.payment_id WHERE d.funds_reinstated_at < {T1}"""),
        ("reversal groups", f"""
INSERT INTO journal_transactions (key, kind, occurred_at, period, memo, reader_id, payment_id, created_at)
SELECT b.category || ':' || b.bt, b.category, b.at, date_trunc('month', b.at AT TIME ZONE {TZ})::date,
       b.category || ' ' || b.source_id, p.reader_id, p.id, b.at
FROM seed_bt b JOIN payments p ON p.id = b.payment_id WHERE b.category <> 'charge'"""),
        ("reversal lines", """
INSERT INTO ledger_entries (transaction_id, account, amount_minor, currency, stream)
SELECT t.id, l.account, l.amount, b.currency, b.stream
FROM journal_transactions t JOIN seed_bt b ON t.key = b.category || ':' || b.bt
CROSS JOIN LATERAL (VALUES
  ('stripe_clearing', b.net),
  (CASE WHEN b.category = 'refund' THEN 'processor_fees' ELSE 'dispute_fees' END, b.fee),
  (CASE WHEN b.category = 'refund' AND b.stream = 'membership' THEN 'deferred_revenue'
        WHEN b.category = 'refund' THEN 'refunds' ELSE 'chargebacks' END, -b.amount)) AS l(account, amount)
WHERE t.kind IN ('refund', 'dispute', 'dispute_reversal') AND l.amount <> 0"""),
        ("payouts", f"""
INSERT INTO payouts (stripe_payout_id, amount_minor, currency, status, arrival_date, reconciled_at, lines_net_minor,
    created_at)
SELECT 'po_b' || to_char(day, 'YYYYMMDD') || '_' || currency, sum(net), currency, 'paid', day + interval '2 days',
       CASE WHEN day < {T1} - interval '5 days' THEN day + interval '2 days' END,
       CASE WHEN day < {T1} - interval '5 days' THEN sum(net) END, day + interval '1 day'
FROM (SELECT date_trunc('day', at) AS day, currency, net FROM seed_bt) b
GROUP BY day, currency HAVING sum(net) > 0"""),
        ("payout_lines", """
INSERT INTO payout_lines (payout_id, balance_transaction_id, type, reporting_category, source_id, stream,
    amount_minor, fee_minor, net_minor, currency)
SELECT po.id, b.bt, b.type, b.category, b.source_id, b.stream, b.amount, b.fee, b.net, b.currency
FROM seed_bt b JOIN payouts po ON po.stripe_payout_id = 'po_b' || to_char(b.at, 'YYYYMMDD') || '_' || b.currency"""),
        ("payout groups", f"""
INSERT INTO journal_transactions (key, kind, occurred_at, period, memo, created_at)
SELECT 'payout:' || stripe_payout_id, 'payout', arrival_date,
       date_trunc('month', arrival_date AT TIME ZONE {TZ})::date, 'payout ' || stripe_payout_id, arrival_date
FROM payouts"""),
        ("payout lines (ledger)", """
INSERT INTO ledger_entries (transaction_id, account, amount_minor, currency, stream)
SELECT t.id, a.account, a.sign * s.amount, s.currency, s.stream
FROM (SELECT pl.payout_id, pl.stream, pl.currency, sum(pl.net_minor) AS amount
      FROM payout_lines pl GROUP BY pl.payout_id, pl.stream, pl.currency) s
JOIN payouts po ON po.id = s.payout_id JOIN journal_transactions t ON t.key = 'payout:' || po.stripe_payout_id
CROSS JOIN (VALUES ('bank', 1), ('stripe_clearing', -1)) AS a(account, sign)
WHERE s.amount <> 0"""),
        ("recognition", f"""
CREATE TEMP TABLE seed_rec AS
WITH s AS (
  SELECT amount_minor::bigint AS a, currency, (service_start AT TIME ZONE {TZ})::date AS d0,
         (service_end AT TIME ZONE {TZ})::date AS d1
  FROM revenue_schedules WHERE reversed_minor = 0),
m AS (
  SELECT s.*, (mo + interval '1 month' - interval '1 day')::date AS cut, (mo - interval '1 day')::date AS prev
  FROM s CROSS JOIN LATERAL generate_series(date_trunc('month', s.d0), date_trunc('month', s.d1 - 1),
                                            interval '1 month') AS mo)
SELECT currency, cut,
       sum(a * least(greatest(cut - d0 + 1, 0), d1 - d0) / (d1 - d0)
           - a * least(greatest(prev - d0 + 1, 0), d1 - d0) / (d1 - d0)) AS amount
FROM m WHERE cut <= {LAST_CUT} GROUP BY currency, cut"""),
        ("recognition groups", f"""
INSERT INTO journal_transactions (key, kind, occurred_at, period, memo, created_at)
SELECT 'recognition:' || cut, 'recognition', ((cut + 1)::timestamp AT TIME ZONE {TZ}) - interval '1 microsecond',
       date_trunc('month', cut)::date, 'membership revenue recognised through ' || cut,
       (cut + 1)::timestamp AT TIME ZONE {TZ}
FROM (SELECT DISTINCT cut FROM seed_rec) c"""),
        ("recognition lines", """
INSERT INTO ledger_entries (transaction_id, account, amount_minor, currency, stream)
SELECT t.id, a.account, a.sign * r.amount, r.currency, 'membership'
FROM seed_rec r JOIN journal_transactions t ON t.key = 'recognition:' || r.cut
CROSS JOIN (VALUES ('deferred_revenue', 1), ('membership_revenue', -1)) AS a(account, sign)
WHERE r.amount <> 0"""),
        ("fx_rates", """
INSERT INTO fx_rates (on_date, currency, base_currency, rate, source)
SELECT d::date, c.code, 'USD', round((c.base + c.swing * sin(extract(epoch FROM d) / 4.3e6))::numeric, 8), 'bench'
FROM generate_series(date '2023-12-01', date '2027-01-31', interval '1 day') AS d
CROSS JOIN (VALUES ('EUR', 1.08, 0.04), ('GBP', 1.27, 0.05)) AS c(code, base, swing)"""),
        ("sequences", """
SELECT setval(pg_get_serial_sequence('readers', 'id'), (SELECT max(id) FROM readers)),
       setval(pg_get_serial_sequence('subscriptions', 'id'), (SELECT max(id) FROM subscriptions))"""),
    ]


def seed(conn: psycopg.Connection, readers: int, log: Callable[[str], None]) -> dict[str, float]:
    """Run every step in one transaction; returns seconds per step."""
    took: dict[str, float] = {}
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # one stream of random() draws
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SELECT setseed(0.42)")
        for name, sql in _steps(readers):
            t = time.perf_counter()
            conn.execute(sql)  # type: ignore[arg-type]  (built from constants and an int)
            took[name] = time.perf_counter() - t
            log(f"  seed {name}: {took[name]:.1f}s")
    return took


def check_balanced(conn: psycopg.Connection) -> int:
    """Groups that do not sum to zero per currency (the rule of migration 0003's trigger)."""
    row = conn.execute("""
        SELECT count(*) FROM (SELECT 1 FROM ledger_entries GROUP BY transaction_id, currency
                              HAVING sum(amount_minor) <> 0) bad""").fetchone()
    return int(row[0]) if row else -1


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in TABLES:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[arg-type]
        counts[table] = int(row[0]) if row else 0
    return counts
