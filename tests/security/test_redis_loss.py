"""Losing Redis degrades, never fails: the real web server (gunicorn) runs against a
private redis-server that the test stops mid-run; sign-up, sign-in, checkout and webhook
acceptance answer as they did, rate limits carry on in the process's memory with one
warning, and each webhook is accepted in milliseconds (the sweeper publishes later)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from flask import Flask
from sqlalchemy import func, select

from membership.billing.models import WebhookEvent
from membership.demo import seed_catalogue
from membership.extensions import db
from tests.billing.webhook_support import event_body, sign
from tests.conftest import free_port, worker_env
from tests.readers.helpers import last_link, token_of
from tests.support.worker import ROOT, wait_until


@pytest.fixture
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own: stopping it harms no other test."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    assert wait_until(lambda: _pings(client), timeout=10), "private redis-server did not start"
    yield url, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def web(app: Flask, app_settings: dict[str, Any], committed_db: None, stripe_sim: Any,
        private_redis: tuple[str, Any], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn (one worker, four threads) on the test database and the private Redis."""
    url, _ = private_redis
    seed_catalogue()
    db.session.commit()
    port = free_port()
    env = {**worker_env(app_settings), "REDIS_URL": url, "BROKER_URL": url}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4",
                                 "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _up(base), timeout=30), log.read_text()[-3000:]
        yield base, log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _signed_in(base: str, email: str) -> requests.Session:
    http = requests.Session()
    res = http.post(f"{base}/api/signup", json={"email": email, "name": "Ada", "accept_terms": True}, timeout=10)
    assert res.status_code == 202, res.text
    db.session.remove()
    token = token_of(last_link(email, "confirm_signup"))
    res = http.post(f"{base}/api/signup/confirm", json={"token": token}, timeout=10)
    assert res.status_code == 200, res.text
    http.headers["X-CSRF-Token"] = res.json()["csrf_token"]
    return http


def _webhook(base: str) -> tuple[int, float]:
    body = event_body("customer.created", {"id": f"cus_{uuid.uuid4().hex[:14]}", "object": "customer"})
    t = time.perf_counter()
    res = requests.post(f"{base}/webhooks/stripe", data=body, timeout=10,
                        headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"})
    return res.status_code, time.perf_counter() - t


def test_reader_routes_and_webhooks_survive_redis_stopping_mid_run(
        web: tuple[str, Path], private_redis: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, log = web
    _, redis_proc = private_redis
    member = _signed_in(base, f"before-{uuid.uuid4().hex[:8]}@news-reader.org")
    assert _webhook(base)[0] == 200

    redis_proc.kill()
    redis_proc.wait(timeout=10)

    email = f"after-{uuid.uuid4().hex[:8]}@news-reader.org"
    assert _signed_in(base, email).get(f"{base}/api/me", timeout=10).status_code == 200
    assert requests.post(f"{base}/api/signin", json={"email": email}, timeout=10).status_code == 202
    checkout = member.post(f"{base}/api/checkout", timeout=10, json={
        "plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True})
    assert checkout.status_code == 201, checkout.text

    answers = [_webhook(base) for _ in range(20)]
    assert {status for status, _ in answers} == {200}
    took = [seconds for _, seconds in answers]
    assert statistics.median(took) < 0.1 and max(took) < 0.5, took
    stored = db.session.scalar(select(func.count()).select_from(WebhookEvent))
    assert stored == 21  # every event is a row; the sweeper publishes them once Redis is back

    # The per-email sign-in limit (5 per 15 minutes) still holds, counted in memory.
    statuses = [requests.post(f"{base}/api/signin", json={"email": email}, timeout=10).status_code
                for _ in range(6)]
    assert statuses[-1] == 429 and 500 not in statuses, statuses

    lines = log.read_text().splitlines()
    assert not [line for line in lines if '"level": "ERROR"' in line], lines[-20:]
    fallbacks = [line for line in lines if "falling back to in-memory" in line]
    assert len(fallbacks) == 1, fallbacks
    assert json.loads(fallbacks[0])["level"] == "WARNING"
