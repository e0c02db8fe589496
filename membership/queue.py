"""Celery the Flask way, plus the two rules every enqueue follows.

1. Tasks run inside the app context (`celery_init_app`), take ids, use JSON.
2. Enqueue only after the commit that created what the task reads
   (`enqueue_after_commit`), and never let a broker outage fail the request: the
   database row is the truth and a sweeper re-enqueues what was not sent.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from membership.config import Settings
from membership.unit_of_work import unit_of_work

log = logging.getLogger(__name__)
QUEUES = ("webhooks", "mail", "newsletters", "reports")


def celery_config(settings: Settings) -> dict[str, Any]:
    transport: dict[str, Any] = {}
    if settings.broker_url.startswith("redis"):
        # Longer than any countdown we use, so Redis never re-delivers a waiting task early.
        # Short socket timeouts: a request never waits long on a lost Redis (the breaker
        # in membership/breaker.py then skips it entirely for a while).
        transport.update(visibility_timeout=3600, socket_connect_timeout=1, socket_timeout=2)
        if settings.broker_key_prefix:
            transport["global_keyprefix"] = settings.broker_key_prefix
    return {
        "broker_url": settings.broker_url,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": "default",
        "task_routes": {f"workers.tasks.{q}.*": {"queue": q} for q in QUEUES},
        "task_publish_retry": False,
        "broker_connection_timeout": 2,
        "task_time_limit": 300,
        "task_soft_time_limit": 240,
        "timezone": "UTC",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
    }


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    """Create the Celery app bound to this Flask app (Flask's documented pattern)."""

    class FlaskTask(Task):
        """A task runs in the app context as one unit of work: committed when it returns,
        rolled back when it raises (membership/unit_of_work.py)."""

        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context(), unit_of_work():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(settings))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def task_name(task: Any) -> str:
    """A task, a signature or a name -> the registered name."""
    if isinstance(task, str):
        return task
    return str(getattr(task, "name", None) or task["task"])


def enqueue(task: Any, *args: Any, **options: Any) -> bool:
    """Send a task through *this* app's Celery (not whichever app was created last).

    On a broker outage log it and return False: the row is the truth and a sweeper retries.
    """
    from flask import current_app, has_request_context

    from membership.breaker import broker_breaker

    name = task_name(task)
    breaker = broker_breaker(current_app)
    # A request skips a broker known to be down (a reader never waits on it); tasks
    # and commands always try, since the sweepers among them are how we catch up.
    if has_request_context() and not breaker.allow():
        log.debug("broker down, left for the sweeper", extra={"task": name})
        return False
    try:
        current_app.extensions["celery"].send_task(name, args=args, **options)
    except Exception as exc:  # kombu raises several unrelated types for "broker down"
        log.warning("enqueue failed, left for the sweeper", extra={"task": name, "error": str(exc)})
        breaker.failed(exc)
        return False
    breaker.succeeded()
    return True


_PENDING = "membership.pending_tasks"


def enqueue_after_commit(task: Any, *args: Any, **options: Any) -> None:
    """Send the task once the current transaction of `db.session` commits; drop it on rollback."""
    from membership.db import db

    db.session().info.setdefault(_PENDING, []).append((task, args, options))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for task, args, options in session.info.pop(_PENDING, []):
        enqueue(task, *args, **options)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
