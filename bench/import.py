"""Benchmark `flask members import` over 100,000 Ghost-format rows (issue 16: under a minute).

A fresh PostgreSQL database (created and dropped here) is migrated and given the demo
catalogue (plans, three newsletters; `seed-demo --readers 0`). A Ghost members export
is generated into a temp file: every column filled the way real exports are (a third
not subscribed, labels on a quarter, tiers on a tenth, comps on 4%, Stripe customers on
10%, notes with commas and line breaks) plus one bad row per thousand. The clock runs
around the real command in its own process (`flask members import PATH --from ghost`:
start-up, parse, apply, commit), then around a second run of the same file (which must
change nothing).

Baseline, measured in the same run: a bare `COPY` of the same emails and names into a
scratch table (the floor for getting 100k rows into this PostgreSQL from Python). The
ratio is the import's seconds over it.

The last line printed is one JSON object; exit 1 if the import failed, took 60 s or
more, or the second run changed something.

    .venv/bin/python bench/import.py [--rows 100000]

On this 2-core box (2026-12-04, load ~1): 21.7 s for 100k rows (4,600 rows/s; 100k
readers, 200k opt-ins, 67k consents, 60k labels, 4k comps), the re-run 11.9 s. Before
the columns went as arrays (importing/bulk.py) it was 36 s: psycopg re-parsing the
multi-row VALUES text cost more than PostgreSQL's work; and before domains were
validated once each (importing/values.py), email validation alone was ~10 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
VENV_BIN = Path(sys.executable).parent
LIMIT_S = 60.0
HEADER = ["id", "email", "name", "note", "subscribed_to_emails", "complimentary_plan", "stripe_customer_id",
          "created_at", "deleted_at", "labels", "tiers"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pg_url(dbname: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{dbname}"


def write_export(path: Path, rows: int) -> list[tuple[str, str]]:
    """The Ghost file; returns (email, name) of every row for the baseline."""
    base = datetime(2019, 1, 1, tzinfo=UTC)
    people = []
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            email = f"reader{i}@bench-{i % 97}.example.org" if i % 1000 != 999 else f"broken-{i}"
            name = f"Reader {i}, of the {i % 12} o'clock edition"
            people.append((email, name))
            writer.writerow([
                f"{i:024x}", email, name, "prefers print\nand weekends" if i % 20 == 0 else "",
                "false" if i % 3 == 0 else "true", "true" if i % 25 == 0 else "false",
                f"cus_B{i:08d}" if i % 10 == 0 else "",
                (base + timedelta(minutes=37 * i)).isoformat().replace("+00:00", ".000Z"), "",
                "VIP, print" if i % 4 == 0 else "", "Gold" if i % 10 == 0 else "",
            ])
    return people


def baseline_copy(dbname: str, people: list[tuple[str, str]]) -> float:
    with psycopg.connect(pg_url(dbname)) as conn:
        conn.execute("CREATE TEMP TABLE scratch (email text, name text)")
        t = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY scratch (email, name) FROM STDIN") as copy:
            for row in people:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - t


def flask(env: dict[str, str], *args: str, timeout: float = 600) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout


def counts(dbname: str) -> dict[str, int]:
    tables = ("readers", "newsletter_subscriptions", "consents", "reader_labels", "complimentary_memberships")
    with psycopg.connect(pg_url(dbname)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    dbname = f"membership_bench_import_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    try:
        return run(args.rows, dbname)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def run(rows: int, dbname: str) -> int:
    url = pg_url(dbname).replace("postgresql://", "postgresql+psycopg://", 1)
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "REDIS_URL": REDIS_URL,
           "PYTHONPATH": str(ROOT)}
    flask(env, "db", "upgrade")
    flask(env, "seed-demo", "--readers", "0")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ghost-members.csv"
        people = write_export(path, rows)
        log(f"{rows:,} rows, {path.stat().st_size / 1e6:.1f} MB; importing")
        seconds, first = flask(env, "members", "import", str(path), "--from", "ghost")
        log("\n".join(line for line in first.splitlines() if not line.startswith("line ")))
        after_first = counts(dbname)
        again_s, second = flask(env, "members", "import", str(path), "--from", "ghost")
        unchanged = counts(dbname) == after_first and "0 new, 0 updated" in second
    baseline = baseline_copy(dbname, people)
    ok = seconds < LIMIT_S and unchanged
    print(json.dumps({
        "bench": "members_import", "rows": rows, "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds), "second_run_seconds": round(again_s, 2),
        "second_run_changed_nothing": unchanged, "rows_written": after_first,
        "baseline": "COPY of the same emails and names into a scratch table",
        "baseline_seconds": round(baseline, 3), "ratio": round(seconds / baseline, 1),
        "limit_seconds": LIMIT_S, "ok": ok, "load_avg": round(os.getloadavg()[0], 2),
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
