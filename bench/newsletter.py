"""Benchmark a newsletter campaign end to end, against a bare smtplib baseline.

A fresh PostgreSQL database (created and dropped here), Redis with a unique key
prefix, an aiosmtpd sink on loopback in its own process (it counts recipients and drops
the bytes), and two Celery worker processes (`-c 1` each) on the `newsletters` queue.

Phases (each bounded):
  1. baseline: the same kind of message, pre-rendered, sent by a bare smtplib loop over
     one connection (the ceiling for one Python sender on this machine);
  2. a small campaign (--small readers) to record worker memory at that size;
  3. the measured campaign (--readers): clock from enqueueing `start_campaign` (row
     creation included) until the campaign is `sent`.
Peak RSS is VmHWM of the worker processes (main + pool child), read from /proc.
The last line printed is one JSON object.

    .venv/bin/python bench/newsletter.py [--readers 20000] [--small 2000] [--rate 20000] [--connections 2]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import smtplib
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PARAGRAPH = ("<p>City council voted on Tuesday to extend the library's opening hours, after a year of "
             "petitions from readers who wrote to us about evenings with nowhere quiet to study.</p>\n")


class CountingSink:
    """aiosmtpd handler: counts recipients in a shared counter, keeps no bytes (flat memory)."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.counter.get_lock():
            self.counter.value += len(envelope.rcpt_tos)
        return "250 OK"


def _sink_process(port: int, counter: Any, ready: Any) -> None:
    """The sink in its own process, so neither the baseline nor the workers share its GIL."""
    from membership.mail.sink import start_sink

    controller = start_sink(CountingSink(counter), port)
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_database() -> tuple[str, str]:
    name = f"membership_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of processes (from /proc/<pid>/stat), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                kids = []
            found.extend(kids)
            frontier.extend(kids)
    return found


def seed(app: Any, count: int, slug: str) -> tuple[int, int]:
    """Readers + confirmed opt-ins in bulk SQL, and one scheduled ~12 KB campaign."""
    from sqlalchemy import text

    from membership.extensions import db
    from membership.newsletters.models import Campaign, CampaignStatus, Newsletter

    with app.app_context():
        newsletter = Newsletter(slug=slug, name=f"Bench {slug}")
        db.session.add(newsletter)
        db.session.flush()
        db.session.execute(text(
            "INSERT INTO readers (email, name, created_at) "
            "SELECT :p || g || '@example.org', 'Reader ' || g, now() FROM generate_series(1, :n) g"
        ), {"p": f"{slug}-", "n": count})
        db.session.execute(text(
            "INSERT INTO newsletter_subscriptions (reader_id, newsletter_id, status, source, requested_at, "
            "confirmed_at) SELECT id, :nl, 'confirmed', 'bench', now(), now() FROM readers WHERE email LIKE :like"
        ), {"nl": newsletter.id, "like": f"{slug}-%"})
        campaign = Campaign(newsletter_id=newsletter.id, subject="The week in local news",
                            body_html="<h1>This week</h1>\n" + PARAGRAPH * 38, status=CampaignStatus.SCHEDULED)
        db.session.add(campaign)
        db.session.commit()
        return newsletter.id, campaign.id


def campaign_state(app: Any, campaign_id: int) -> tuple[str, int]:
    from sqlalchemy import text

    from membership.extensions import db

    with app.app_context():
        row = db.session.execute(text(
            "SELECT c.status, (SELECT count(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'sent') "
            "FROM campaigns c WHERE c.id = :c"), {"c": campaign_id}).one()
        db.session.remove()
        return str(row[0]), int(row[1])


def run_campaign(app: Any, campaign_id: int, readers: int, timeout: float) -> float:
    start = time.perf_counter()
    app.extensions["celery"].send_task("workers.tasks.newsletters.start_campaign", args=[campaign_id])
    deadline = start + timeout
    while time.perf_counter() < deadline:
        status, sent = campaign_state(app, campaign_id)
        if status == "sent":
            return time.perf_counter() - start
        time.sleep(0.05)
    raise SystemExit(f"campaign {campaign_id} not sent within {timeout}s ({sent}/{readers} sent)")


def baseline(app: Any, newsletter_id: int, campaign_id: int, smtp_port: int, count: int,
             sink_pid: int) -> tuple[float, float, float]:
    """Pre-render `count` messages with the campaign renderer, then time a bare smtplib loop."""
    from membership.extensions import db
    from membership.newsletters.models import Campaign, Newsletter
    from membership.newsletters.render import CampaignRenderer

    with app.app_context():
        renderer = CampaignRenderer.build(db.session.get(Campaign, campaign_id),
                                          db.session.get(Newsletter, newsletter_id))
        messages = [renderer.render(10_000_000 + i, f"baseline{i}@example.org") for i in range(count)]
        db.session.remove()
    mail_from = app.config["SETTINGS"].mail_from
    with smtplib.SMTP("127.0.0.1", smtp_port) as conn:
        conn.ehlo()
        start, cpu, sink_cpu = time.perf_counter(), time.process_time(), cpu_seconds([sink_pid])
        for i, (data, _) in enumerate(messages):
            conn.sendmail(mail_from, [f"baseline{i}@example.org"], data)
        elapsed = time.perf_counter() - start
        cpu, sink_cpu = time.process_time() - cpu, cpu_seconds([sink_pid]) - sink_cpu
    return count / elapsed, cpu * 1000 / count, sink_cpu * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--baseline", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=20_000, help="global send rate, messages/s")
    parser.add_argument("--connections", type=int, default=2, help="sender threads per worker task")
    parser.add_argument("--timeout", type=float, default=150)
    args = parser.parse_args()

    import multiprocessing as mp

    from flask_migrate import upgrade

    from membership import create_app
    from tests.support.worker import WorkerProcess

    dbname, db_url = create_database()
    prefix = f"bench{os.getpid()}{uuid.uuid4().hex[:4]}:"
    smtp_port = free_port()
    counter, ready = mp.Value("q", 0), mp.Event()
    sink = mp.Process(target=_sink_process, args=(smtp_port, counter, ready), daemon=True)
    sink.start()
    if not ready.wait(15):
        raise SystemExit("the SMTP sink did not start")
    settings = {"mode": "test", "database_url": db_url, "redis_url": REDIS_URL, "broker_key_prefix": prefix,
                "secret_key": secrets.token_urlsafe(48),
                "smtp_url": f"smtp://127.0.0.1:{smtp_port}", "public_url": "https://members.demo-gazette.example"}
    app = create_app(**settings)
    workers: list[WorkerProcess] = []
    try:
        with app.app_context():
            upgrade()
        env = {"APP_ENV": "test", "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "CELERY_KEY_PREFIX": prefix,
               "SECRET_KEY": settings["secret_key"],
               "SMTP_URL": settings["smtp_url"], "PUBLIC_URL": settings["public_url"],
               "NEWSLETTER_SEND_RATE": str(args.rate), "NEWSLETTER_SEND_BURST": str(max(200, args.rate / 10)),
               "NEWSLETTER_SENDERS": "2", "NEWSLETTER_CHUNK_SIZE": "250",
               "NEWSLETTER_CONNECTIONS": str(args.connections)}
        log_dir = ROOT / "var"
        log_dir.mkdir(exist_ok=True)
        for i in range(2):
            workers.append(WorkerProcess(env, queues="newsletters", concurrency=1,
                                         log_path=log_dir / f"bench-newsletter-worker{i}.log").start())
        small_nl, small_campaign = seed(app, args.small, "small")
        big_nl, big_campaign = seed(app, args.readers, "big")

        assert sink.pid is not None
        base_rate, base_cpu, base_sink_cpu = baseline(app, big_nl, big_campaign, smtp_port, args.baseline, sink.pid)
        print(f"baseline: bare smtplib, one connection, pre-rendered: {base_rate:,.0f} messages/s "
              f"(CPU per message: sender {base_cpu:.2f} ms, sink {base_sink_cpu:.2f} ms)", flush=True)

        deadline = time.monotonic() + 30
        while len(app.extensions["celery"].control.ping(timeout=0.5)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        run_campaign(app, small_campaign, args.small, args.timeout)
        pids = [w.proc.pid for w in workers if w.proc] + [p for w in workers if w.proc for p in descendants(w.proc.pid)]
        small_rss = max(vm_hwm_mb(p) for p in pids)
        print(f"small campaign ({args.small:,} readers) done; worker peak RSS {small_rss:.1f} MB", flush=True)

        before = counter.value
        cpu_before, sink_before = cpu_seconds(pids), cpu_seconds([sink.pid])
        elapsed = run_campaign(app, big_campaign, args.readers, args.timeout)
        worker_cpu = (cpu_seconds(pids) - cpu_before) * 1000 / args.readers
        sink_cpu = (cpu_seconds([sink.pid]) - sink_before) * 1000 / args.readers
        rate = args.readers / elapsed
        pids = [w.proc.pid for w in workers if w.proc] + [p for w in workers if w.proc for p in descendants(w.proc.pid)]
        peak_rss = max(vm_hwm_mb(p) for p in pids)
        received = counter.value - before
        print(f"campaign: {args.readers:,} readers in {elapsed:.2f}s = {rate:,.0f} messages/s end to end "
              f"(sink received {received:,}); worker peak RSS {peak_rss:.1f} MB", flush=True)
        print(f"CPU per message: workers {worker_cpu:.2f} ms, sink {sink_cpu:.2f} ms; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        result = {
            "readers": args.readers, "seconds": round(elapsed, 3), "messages_per_s": round(rate, 1),
            "baseline_per_s": round(base_rate, 1), "ratio": round(rate / base_rate, 3),
            "peak_rss_mb": round(peak_rss, 1), "peak_rss_mb_small": round(small_rss, 1),
            "small_readers": args.small, "workers": 2, "connections_per_worker": args.connections, "sink_received": received,
            "worker_cpu_ms_per_msg": round(worker_cpu, 3), "sink_cpu_ms_per_msg": round(sink_cpu, 3),
            "baseline_sender_cpu_ms_per_msg": round(base_cpu, 3), "baseline_sink_cpu_ms_per_msg": round(base_sink_cpu, 3),
            "load_average": round(os.getloadavg()[0], 2),
            "targets_met": rate >= 500 and rate / base_rate >= 0.5,
        }
        print(json.dumps(result), flush=True)
    finally:
        for worker in workers:
            worker.stop()
        sink.terminate()
        sink.join(5)
        with app.app_context():
            from membership.extensions import db

            db.session.remove()
            db.engine.dispose()
        drop_database(dbname)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
