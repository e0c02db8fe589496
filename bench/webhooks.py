"""Benchmark the webhook pipeline end to end: accepted/s, processed/s, acceptance latency.

20,000 signed `customer.updated` events (for customers that exist in stripe_sim, so
every event costs a real re-fetch) are POSTed over loopback HTTP to the app under
gunicorn (2 workers, gthread) and processed by a real Celery worker against a fresh
PostgreSQL database and stripe_sim in its own process. In the same run, the rate of
bare INSERTs of the same rows into PostgreSQL (same number of concurrent
connections, one commit each, as the endpoint does) is the baseline.

Phase 1 (acceptance) runs with the worker stopped and phase 2 (the worker drains the
queue) after it, so the two do not fight over this machine's two cores and each rate
is attributable. CPU seconds per component (from /proc) are printed for both phases.

Everything is bounded: fixed event count, per-phase deadlines, cleanup on exit.
The last line printed is one JSON object.

    .venv/bin/python bench/webhooks.py [--events 20000] [--senders 2] [--threads 8]

Where the time goes (2-core box, 2026-11-24, session 2; with gunicorn.conf.py's even
split: 1,155-1,462 accepted/s, 356-427 processed/s, p99 acceptance 22-34 ms; before it,
with --reuse-port: 942-1,532 accepted/s depending on the kernel's split):
- Acceptance: about 0.85 ms of gunicorn CPU per request (session 1: 1.05 ms, before
  that 2.1). In the app alone (no HTTP, one thread) a request is about 0.47 ms: Flask
  dispatch and its hooks about 0.12, the signature check and JSON parse about 0.05,
  the INSERT ... ON CONFLICT about 0.15 (SQLAlchemy Core, one autocommit statement: no
  BEGIN/COMMIT round trips, no ORM session), the Redis SET NX of the coalesced nudge
  about 0.06. Bare gunicorn (gthread, same load, a WSGI app that only answers) costs
  0.13 ms; the rest is four threads sharing one GIL per worker. Removed this session:
  the per-checkout `SELECT 1` of pool_pre_ping (now only connections idle for more
  than a second are pinged: membership/connections.py) and Flask-Limiter resolving
  limits for the exempt route (a request filter now short-circuits it).
  The limit was the busier gunicorn worker: --reuse-port hashed the 16 keep-alive
  connections 56/44 to 74/26 (`gunicorn_worker_cpu_s`), so one worker saturated its
  core and acceptance swung from 942 to 1,532/s between runs. Now one shared socket
  with worker_connections = 2 x threads (gunicorn.conf.py): each worker stops accepting
  at 8 connections, the split is 50/50 and acceptance 1,398-1,430/s, p99 24 ms. 3 or 6
  threads per worker measured the same as 4 within the run-to-run spread.
- Processing: about 3.5 ms of worker CPU per event (session 1: 5), nearly all in our
  path: two short async-commit transactions and the stripe-python re-fetch. Celery's
  per-message overhead is paid once per drain of up to 500 events, not per event.
  Machine saturated (worker + PostgreSQL + stripe_sim).
- Not the limits: PostgreSQL (fsync is paid once per event at acceptance; processing
  commits asynchronously), stripe_sim (about 0.2 ms CPU per re-fetch), Redis.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import redis
import stripe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "whsec_bench_secret"
KEY = "sk_test_bench"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def sa_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{dbname}"


# --- load generation (in child processes, so the client's GIL does not cap it) ----------

def _sender(port: int, bodies: list[bytes], threads: int, out: Any) -> None:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]

    def run(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        bad = 0
        for body in chunk:
            header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
            started = time.perf_counter()
            try:
                conn.request("POST", "/webhooks/stripe", body=body,
                             headers={"Content-Type": "application/json", "Stripe-Signature": header})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            local.append(time.perf_counter() - started)
            bad += 0 if ok else 1
        conn.close()
        with lock:
            latencies.extend(local)
            errors[0] += bad

    workers = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors[0]))


def _event(customer: str, n: int) -> bytes:
    return json.dumps({
        "id": f"evt_bench_{n:06d}_{uuid.uuid4().hex[:12]}", "object": "event", "api_version": stripe.api_version,
        "created": int(time.time()), "livemode": False, "pending_webhooks": 1, "type": "customer.updated",
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": customer, "object": "customer"}, "previous_attributes": {"name": None}},
    }).encode()


# --- where the CPU goes (read from /proc: no extra dependency) -----------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu() -> dict[int, tuple[int, str, float]]:
    """pid -> (process group, command, CPU seconds so far)."""
    out: dict[int, tuple[int, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        out[int(entry)] = (int(fields[2]), comm, (int(fields[11]) + int(fields[12])) / TICK)
    return out


def _machine_busy() -> float:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    return (sum(parts) - parts[3] - parts[4]) / TICK  # all but idle and iowait


class CpuMeter:
    """CPU seconds per component over a phase: our process groups, PostgreSQL (every
    backend, so other people's queries too), our load generator, and the machine."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = groups
        self.start = self._sample()
        self.start_members = self._members()
        self.split: dict[str, list[float]] = {}

    def _members(self) -> dict[int, tuple[str, float]]:
        """Each non-leader process of our groups (gunicorn's workers, celery's children)."""
        leaders = {pgid: name for name, pgid in self.groups.items()}
        return {pid: (leaders[pg], cpu) for pid, (pg, _c, cpu) in _proc_cpu().items()
                if pg in leaders and pid != pg}

    def _sample(self) -> dict[str, float]:
        procs = _proc_cpu()
        sample = {name: sum(cpu for _pid, (pg, _c, cpu) in procs.items() if pg == pgid)
                  for name, pgid in self.groups.items()}
        sample["postgres"] = sum(cpu for pg, comm, cpu in procs.values() if comm.startswith("postgres"))
        times = os.times()
        sample["load_generator"] = times.children_user + times.children_system
        sample["machine"] = _machine_busy()
        return sample

    def stop(self) -> dict[str, float]:
        end = self._sample()
        used = {k: round(end[k] - self.start[k], 1) for k in end}
        used["everything_else"] = round(used["machine"] - sum(v for k, v in used.items() if k != "machine"), 1)
        for pid, (name, cpu) in self._members().items():
            before = self.start_members.get(pid, (name, 0.0))[1]
            self.split.setdefault(name, []).append(round(cpu - before, 1))
        for values in self.split.values():
            values.sort(reverse=True)
        return used


# --- phases -----------------------------------------------------------------------------

def baseline_inserts(dbname: str, bodies: list[bytes], connections: int) -> float:
    """The same rows, one INSERT ... ON CONFLICT + commit each, no HTTP/app/broker."""
    with psycopg.connect(pg_url(dbname), autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_baseline (LIKE webhook_events INCLUDING ALL)")
    sql = ("INSERT INTO bench_baseline (stripe_event_id, type, api_version, object_id, stripe_created, payload,"
           " status, attempts, received_at) VALUES (%s, %s, %s, %s, %s, %s, 'received', 0, now())"
           " ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id")
    rows = []
    for body in bodies:
        evt = json.loads(body)
        rows.append((evt["id"], evt["type"], evt["api_version"], evt["data"]["object"]["id"], evt["created"],
                     body.decode()))

    def run(chunk: list[tuple[Any, ...]]) -> None:
        with psycopg.connect(pg_url(dbname), autocommit=True) as conn:
            for row in chunk:
                conn.execute(sql, row).fetchone()

    threads = [threading.Thread(target=run, args=(rows[i::connections],)) for i in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(rows) / (time.perf_counter() - started)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--customers", type=int, default=200)
    ap.add_argument("--senders", type=int, default=2, help="client processes")
    ap.add_argument("--threads", type=int, default=8, help="keep-alive connections per client process")
    ap.add_argument("--gunicorn-threads", type=int, default=4)
    ap.add_argument("--worker-concurrency", type=int, default=6)
    ap.add_argument("--worker-pool", default="prefork", choices=["prefork", "threads"])
    ap.add_argument("--deadline", type=float, default=150.0, help="max seconds to wait for processing")
    args = ap.parse_args()

    dbname = f"bench_webhooks_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    prefix = f"bench{os.getpid()}:"
    procs: list[subprocess.Popen[bytes]] = []
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    try:
        return run(args, dbname, prefix, procs, logs)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=5)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*", count=1000):
            client.delete(key)
        client.close()


def run(args: argparse.Namespace, dbname: str, prefix: str, procs: list[subprocess.Popen[bytes]],
        logs: Path) -> int:
    sim_port, web_port = free_port(), free_port()
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": sa_url(dbname), "REDIS_URL": REDIS_URL,
           "CELERY_KEY_PREFIX": prefix, "STRIPE_API_BASE": f"http://127.0.0.1:{sim_port}",
           "STRIPE_SECRET_KEY": KEY, "STRIPE_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(ROOT)}

    groups: dict[str, int] = {}

    def spawn(cmd: list[str], name: str) -> None:
        out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (handed to the child)
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True))
        groups[name] = procs[-1].pid  # its own session: process group id == pid
        out.close()

    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spawn([sys.executable, "-m", "stripe_sim", "--port", str(sim_port)], "sim")
    sdk = stripe.StripeClient(KEY, base_addresses={"api": f"http://127.0.0.1:{sim_port}"})
    wait_for(lambda: sdk.v1.customers.list(params={"limit": 1}) is not None, 20, "stripe_sim")
    customers = [sdk.v1.customers.create(params={"email": f"bench{i}@example.com"}).id
                 for i in range(args.customers)]
    with psycopg.connect(pg_url(dbname), autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO readers (email, name, created_at, stripe_customer_id) VALUES (%s, '', now(), %s)",
                        [(f"bench{i}@example.com", c) for i, c in enumerate(customers)])
    bodies = [_event(customers[n % len(customers)], n) for n in range(args.events)]

    connections = args.senders * args.threads
    load_at_start = os.getloadavg()[0]  # other work on this machine skews every number below
    baseline = baseline_inserts(dbname, bodies, connections)
    print(f"baseline: {baseline:,.0f} bare INSERTs/s ({connections} connections, one commit each)", flush=True)

    spawn([str(VENV_BIN / "gunicorn"), "--workers", "2", "--worker-class", "gthread", "--threads",
           str(args.gunicorn_threads), "--worker-connections", str(2 * args.gunicorn_threads),
           "--bind", f"127.0.0.1:{web_port}", "--backlog", "256", "wsgi:app"],
          "gunicorn")
    wait_for(lambda: _get(web_port, "/healthz") == 200, 30, "gunicorn")

    # Phase 1: acceptance over HTTP (verify, insert, commit, enqueue to Redis).
    queue: Any = mp.Queue()
    per = [bodies[i::args.senders] for i in range(args.senders)]
    senders = [mp.Process(target=_sender, args=(web_port, chunk, args.threads, queue)) for chunk in per]
    meter = CpuMeter(groups)
    started = time.perf_counter()
    for s in senders:
        s.start()
    results = []
    for _ in senders:
        try:
            results.append(queue.get(timeout=max(1.0, started + args.deadline - time.perf_counter())))
        except Exception:  # the deadline passed: report what we have
            break
    accept_elapsed = time.perf_counter() - started
    for s in senders:
        s.join(timeout=5)
        if s.is_alive():
            s.terminate()
    latencies = sorted(x for lat, _ in results for x in lat) or [float("nan")]
    errors = sum(e for _, e in results)
    accepted = len(latencies) - errors if results else 0
    cpu_accept = meter.stop()
    worker_split = meter.split.get("gunicorn", [])
    print(f"accepted: {accepted} in {accept_elapsed:.1f} s; CPU seconds: {cpu_accept}", flush=True)

    # Phase 2: a real Celery worker drains what the endpoint enqueued. Started only now
    # so the two phases do not fight over this machine's two cores (see the note).
    spawn([sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "webhooks", "-c",
           str(args.worker_concurrency), "-P", args.worker_pool, "--without-gossip", "--without-mingle", "--without-heartbeat",
           "-l", "WARNING"], "worker")
    with psycopg.connect(pg_url(dbname), autocommit=True) as conn:
        def processed() -> int:
            row = conn.execute("SELECT count(*) FROM webhook_events WHERE status = 'processed'").fetchone()
            return int(row[0]) if row else 0
        wait_for(lambda: processed() > 0, 60, "the worker's first event")
        meter = CpuMeter(groups)
        first_at, first_n = time.perf_counter(), processed()
        deadline = first_at + args.deadline
        done = first_n
        while done < args.events and time.perf_counter() < deadline:
            time.sleep(0.2)
            done = processed()
        process_elapsed = time.perf_counter() - first_at
        cpu_process = meter.stop()
        stored = conn.execute("SELECT count(*) FROM webhook_events").fetchone()
        stored_n = int(stored[0]) if stored else 0

    result = {
        "events": args.events, "stored": stored_n, "errors": errors,
        "accepted_per_s": round(accepted / accept_elapsed, 1),
        "processed": done, "processed_per_s": round((done - first_n) / process_elapsed, 1),
        "p50_accept_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_accept_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "baseline_insert_per_s": round(baseline, 1),
        "gunicorn": f"2 workers x {args.gunicorn_threads} threads", "celery": f"{args.worker_pool} x {args.worker_concurrency}",
        "client_connections": connections, "load_avg_1m_at_start": round(load_at_start, 2),
        "cpu_s_accept_phase": cpu_accept, "cpu_s_process_phase": cpu_process,
        "gunicorn_worker_cpu_s": worker_split,  # uneven: --reuse-port hashes 16 keep-alive connections
        "accept_s": round(accept_elapsed, 1), "process_s": round(process_elapsed, 1),
    }
    print(f"accepted: {result['accepted_per_s']:,}/s  p50 {result['p50_accept_ms']} ms  p99 "
          f"{result['p99_accept_ms']} ms  errors {errors}", flush=True)
    print(f"processed: {done}/{args.events} at {result['processed_per_s']:,}/s; CPU seconds: {cpu_process}",
          flush=True)
    print(json.dumps(result))
    return 0 if done == args.events and errors == 0 else 1


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
