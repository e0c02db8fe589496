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


def test_task_lines_carry_the_task_id(app: Flask) -> None:
    """Run a task body the way a worker does (apply: in-process, with a task id) and check
    the filter stamps task_id/task_name on the record."""
    from celery import shared_task

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if ContextFilter().filter(record):
                seen.append(record)

    @shared_task(name="tests.log_inside_task")
    def log_inside_task() -> None:
        logging.getLogger("membership.test.task").warning("inside the task")

    handler = Keep()
    logger = logging.getLogger("membership.test.task")
    logger.addHandler(handler)
    try:
        with app.app_context():
            result = app.extensions["celery"].tasks["tests.log_inside_task"].apply(task_id="task-xyz")
        assert result.successful()
    finally:
        logger.removeHandler(handler)
    assert [getattr(r, "task_id", None) for r in seen] == ["task-xyz"]
    assert seen[0].task_name == "tests.log_inside_task"  # type: ignore[attr-defined]


def test_development_prints_one_readable_line_and_quiets_celery(capsys: pytest.CaptureFixture[str]) -> None:
    from membership.logs import configure_logging

    configure_logging("development")
    try:
        logging.getLogger("membership.test").info("reader signed in", extra={"reader_id": 7})
        logging.getLogger("celery.beat").info("Scheduler: Sending due task")
        logging.getLogger("kombu.connection").info("connected")
        err = capsys.readouterr().err.splitlines()
        celery_level = logging.getLogger("celery").getEffectiveLevel()
    finally:
        configure_logging("test")
    ours = [line for line in err if "reader signed in" in line]
    assert len(ours) == 1 and not ours[0].startswith("{")
    assert " INFO " in ours[0] and "membership.test" in ours[0] and "reader_id=7" in ours[0]
    assert not [line for line in err if "Sending due task" in line or "connected" in line]
    assert celery_level == logging.WARNING


def test_the_app_keeps_info_when_a_worker_lowers_the_root_logger(capsys: pytest.CaptureFixture[str]) -> None:
    from membership.logs import configure_logging

    configure_logging("test")
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)  # what `celery worker -l WARNING` does to the root
    try:
        logging.getLogger("membership.mail").info("notice sent")
    finally:
        root.setLevel(before)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [line["message"] for line in lines] == ["notice sent"]
