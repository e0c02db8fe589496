"""Every log line is one JSON object, and a request's lines carry its request id."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask

from membership import create_app
from membership.extensions import db
from membership.logs import ContextFilter


def test_request_lines_carry_the_request_id(app_settings: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(**app_settings)  # its own app: routes can't be added to one that served requests

    @app.get("/_test/log-something")
    def _log_something() -> str:
        logging.getLogger("membership.test").warning("inside the request", extra={"answer": 42})
        return "ok"

    response = app.test_client().get("/_test/log-something", headers={"X-Request-ID": "req-abc-123"})
    assert response.headers["X-Request-ID"] == "req-abc-123"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    ours = [line for line in lines if line.get("message") == "inside the request"]
    assert ours and ours[0]["request_id"] == "req-abc-123" and ours[0]["answer"] == 42
    assert ours[0]["level"] == "WARNING"
    with app.app_context():
        db.engine.dispose()


def test_an_absurd_incoming_request_id_is_replaced(app: Flask) -> None:
    response = app.test_client().get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert len(response.headers["X-Request-ID"]) == 32


def test_records_outside_requests_and_tasks_pass_through_unchanged() -> None:
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "plain", None, None)
    assert ContextFilter().filter(record) is True
    assert not hasattr(record, "request_id") and not hasattr(record, "task_id")
