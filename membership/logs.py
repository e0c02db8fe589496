"""Logs: one JSON object per line in production and tests (for the log pipeline), one
readable line per event in development (for the person watching `make run`); either way
with the request id (web) or task id (workers). Development keeps the app at INFO and
Celery's and Kombu's internals at WARNING, so beat's ticks do not flood the terminal."""

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


_STANDARD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
QUIET_IN_DEVELOPMENT = ("celery", "kombu", "amqp", "sqlalchemy.engine", "werkzeug")


class ReadableFormatter(logging.Formatter):
    """`18:20:01 INFO  membership.readers: signed in  reader=12 request_id=ab12…` on one line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record).replace("\n", " | ")
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items()
                          if k not in _STANDARD_FIELDS and not k.startswith("_") and v is not None)
        return f"{line}  {extras}" if extras else line


def configure_logging(mode: str = "production", level: str = "INFO") -> None:
    """Replace our root handler with one on stderr (idempotent): JSON, or readable
    lines in development."""
    handler = logging.StreamHandler(sys.stderr)
    if mode == "development":
        handler.setFormatter(ReadableFormatter())
    else:
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
    # The app's own loggers stay at `level` even when a worker's `-l WARNING` lowers the root.
    for ours in ("membership", "workers"):
        logging.getLogger(ours).setLevel(level)
    for noisy in QUIET_IN_DEVELOPMENT:
        logging.getLogger(noisy).setLevel(logging.WARNING if mode == "development" else logging.NOTSET)
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
