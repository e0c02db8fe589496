"""The webhook pipeline with real processes: a Celery worker on Redis, PostgreSQL and
stripe_sim. A worker SIGKILLed mid-event, and a broker that disappears while Stripe
is delivering: in both cases every event is processed exactly once afterwards."""

from __future__ import annotations

import http.client
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select, update

from membership import create_app
from membership.billing.gateway import stripe_client
from membership.billing.models import Subscription, SubscriptionEvent, WebhookEvent
from membership.db import utcnow
from membership.extensions import db
from tests.billing.webhook_support import event_body, make_reader, post, sim_customer, sim_price
from tests.conftest import free_port
from tests.support.worker import wait_until
from workers.tasks.webhooks import sweep_inbox


def _statuses() -> dict[str, int]:
    db.session.rollback()  # see the worker's commits
    rows = db.session.execute(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status))
    return {status.value: int(n) for status, n in rows}


def _subscription_event(app_client: Any) -> tuple[str, bytes]:
    reader = make_reader()
    customer = sim_customer(reader)
    price = sim_price(1300)
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    snapshot = stripe_client().v1.subscriptions.retrieve(sub.id).to_dict(recursive=True, for_json=True)
    return sub.id, event_body("customer.subscription.created", snapshot)


class SlowStripe:
    """A loopback proxy in front of stripe_sim that holds subscription re-fetches until
    released, so the test knows the worker is mid-event when it kills it."""

    def __init__(self, upstream: str) -> None:
        self.hit = threading.Event()
        self.release = threading.Event()
        target = urlsplit(upstream)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "GET" and self.path.startswith("/v1/subscriptions/"):
                    outer.hit.set()
                    outer.release.wait(timeout=60)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def slow_stripe(stripe_sim: Any) -> Iterator[SlowStripe]:
    proxy = SlowStripe(stripe_sim.url)
    yield proxy
    proxy.close()


@pytest.mark.slow
def test_worker_processes_a_delivered_event(app: Flask, committed_db: None, stripe_sim: Any,
                                            start_worker: Callable[..., Any]) -> None:
    start_worker(queues="webhooks")
    sub_id, body = _subscription_event(app)
    assert post(app.test_client(), body).status_code == 200
    assert wait_until(lambda: _statuses() == {"processed": 1}, timeout=60), _statuses()
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub_id)).one()
    assert local.mrr_minor == 1300


@pytest.mark.slow
def test_worker_killed_mid_event_is_processed_once_when_a_worker_returns(
        app: Flask, committed_db: None, stripe_sim: Any, slow_stripe: SlowStripe,
        start_worker: Callable[..., Any]) -> None:
    first = start_worker(queues="webhooks", STRIPE_API_BASE=slow_stripe.url)
    sub_id, body = _subscription_event(app)
    assert post(app.test_client(), body).status_code == 200
    assert slow_stripe.hit.wait(timeout=60), "the worker never re-fetched the subscription"
    assert _statuses() == {"processing": 1}  # claimed, and its work transaction is open
    first.kill()  # SIGKILL: no ack, no rollback by the worker, the transaction dies with it
    slow_stripe.release.set()
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    start_worker(queues="webhooks")
    # The lease on the claimed row runs 5 minutes; pretend they have passed, then sweep
    # (what beat does every minute) so the new worker gets the event again.
    db.session.execute(update(WebhookEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert sweep_inbox.run(0) == 1
    assert wait_until(lambda: _statuses() == {"processed": 1}, timeout=60), _statuses()
    row = db.session.scalars(select(WebhookEvent)).one()
    assert row.attempts == 2
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub_id)).one()
    moves = db.session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.subscription_id == local.id)).all()
    assert [(m.kind.value, m.mrr_delta_minor) for m in moves] == [("new", 1300)]


class PrivateRedis:
    """A redis-server of our own on a free loopback port: the shared one stays up for
    everybody else's tests while this one is stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(self._ping, timeout=10), "private redis-server did not start"

    def _ping(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(app: Flask) -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
    app.extensions["celery"].set_default()  # another app was created on the private Redis


@pytest.mark.slow
def test_redis_stopped_during_delivery_events_are_processed_after_it_returns(
        app: Flask, app_settings: dict[str, Any], committed_db: None, stripe_sim: Any,
        private_redis: PrivateRedis, start_worker: Callable[..., Any]) -> None:
    on_private = create_app(**{**app_settings, "redis_url": private_redis.url})
    start_worker(queues="webhooks", REDIS_URL=private_redis.url)
    bodies = [_subscription_event(app)[1] for _ in range(3)]
    private_redis.stop()
    with on_private.app_context():
        answers = [post(on_private.test_client(), body).status_code for body in bodies]
        db.session.remove()
    assert answers == [200, 200, 200]  # stored even though nothing could be enqueued
    assert _statuses() == {"received": 3}
    private_redis.start()
    with on_private.app_context():
        assert sweep_inbox.run(0) == 3
        db.session.remove()
        db.engine.dispose()
    assert wait_until(lambda: _statuses() == {"processed": 3}, timeout=90), _statuses()
    assert db.session.scalar(select(func.count()).select_from(SubscriptionEvent)) == 3
