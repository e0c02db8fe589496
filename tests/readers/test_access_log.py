"""Access logs never record sign-in, confirmation or unsubscribe tokens: the real gunicorn
(reading gunicorn.conf.py) and the development server, through HTTP."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from membership.web.access_log import scrub
from tests.conftest import free_port, worker_env
from tests.support.live import serve
from tests.support.worker import wait_until

ROOT = Path(__file__).resolve().parents[2]
SIGNIN, CONFIRM, UNSUB = "SigninTok3nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "ConfirmTok3nBBBBBBBBBBBBBBBBB", "UnsubTok3nCCCCCCC"


def _hit(base: str) -> None:
    requests.get(f"{base}/signin/{SIGNIN}", headers={"Referer": f"https://m.example.org/confirm/{CONFIRM}"},
                 timeout=10)
    requests.get(f"{base}/confirm/{CONFIRM}?utm=x", timeout=10)
    requests.get(f"{base}/u/{UNSUB}", timeout=10)
    requests.get(f"{base}/healthz", timeout=10)


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_gunicorn_access_log_has_no_tokens(app: Flask, app_settings: dict[str, Any], tmp_path: Path) -> None:
    port, access, errors = free_port(), tmp_path / "access.log", tmp_path / "error.log"
    fmt = '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %(q)s {referer}i'
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access), "--access-logformat", fmt, "--error-logfile", str(errors), "wsgi:app"],
        cwd=ROOT, env={**os.environ, **worker_env(app_settings)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _up(base), timeout=30), errors.read_text()[-3000:] if errors.exists() else ""
        _hit(base)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    log = access.read_text()
    assert "/healthz" in log and log.count("<redacted>") >= 5, log
    for token in (SIGNIN, CONFIRM, UNSUB):
        assert token not in log, log
    assert "/signin/<redacted>" in log and "/u/<redacted>" in log and "confirm/<redacted>" in log


def test_development_server_log_has_no_tokens(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="werkzeug"), serve(app) as base:
        _hit(base)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/signin/<redacted>" in line for line in lines), lines
    for token in (SIGNIN, CONFIRM, UNSUB):
        assert all(token not in line for line in lines)


@pytest.mark.parametrize(("raw", "clean"), [
    ("GET /signin/abc123 HTTP/1.1", "GET /signin/<redacted> HTTP/1.1"),
    ("https://x.org/confirm/abc?next=/a", "https://x.org/confirm/<redacted>?next=/a"),
    ("/u/abc", "/u/<redacted>"),
    ("POST /api/signin HTTP/1.1", "POST /api/signin HTTP/1.1"),
    ("/api/signin/verify", "/api/signin/verify"),
    ("/account", "/account"),
])
def test_scrub(raw: str, clean: str) -> None:
    assert scrub(raw) == clean
