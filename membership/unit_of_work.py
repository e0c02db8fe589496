"""One unit of work per request, task or command.

Services decide and only flush; the boundary around them commits once when they
succeed and rolls back when anything raises, so a refused request or a failed task
changes nothing. The boundaries are the `operation` decorator (every API view),
`@transactional` (pages, commands, hooks), and the Celery task base (`queue.py`).

A few operations truly need several transactions: the webhook worker claims an event
before working on it, the notice and newsletter senders make their evidence durable
before talking SMTP and after each 250, a step-up sign-in mails a fresh link and then
refuses. They call `checkpoint()`, so a search for `.commit(` finds this module only.
Enqueue with `queue.enqueue_after_commit`: the task is published once the boundary
commits, and dropped if it rolls back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from membership.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once if the block succeeds; roll back if it raises (and re-raise)."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def transactional(fn: F) -> F:
    """Run `fn` as one unit of work (pages, commands, request hooks)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work():
            return fn(*args, **kwargs)

    return run  # type: ignore[return-value]


def checkpoint() -> None:
    """Commit the work so far, mid-operation, where it must survive what follows
    (a claimed webhook, a notice's evidence before SMTP, a link mailed before a 403).
    Publishes what `enqueue_after_commit` queued so far."""
    db.session.commit()
