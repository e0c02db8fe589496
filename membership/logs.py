"""Structured JSON logs with the request id (web) or task id (workers) on every line."""

from __future__ import annotations

import logging
import sys
import uuid

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"


class ContextFilter(logging.Filter):
    """Stamps request_id / task_id onto records so every line can be correlated."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(g, "request_id", None)
            record.client = request.remote_addr  # the reader's address once ProxyFix applied
        try:
            from celery import current_task

            if current_task and current_task.request.id:
                record.task_id = current_task.request.id
                record.task_name = current_task.name
        except Exception:  # logging must never raise
            pass
        return True


def configure_logging(level: str = "INFO") -> None:
    """Replace root handlers with one JSON handler on stderr (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level"})
    )
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_membership", False):
            root.removeHandler(old)
    handler._membership = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic announces every plugin at INFO on each start-up; keep its real messages only.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def install_request_id(app: Flask) -> None:
    """Take the proxy's X-Request-ID when sane, else mint one; echo it back."""

    @app.before_request
    def _assign() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex

    @app.after_request
    def _echo(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = getattr(g, "request_id", "")
        return response
