"""A cap on every request body, checked before anything reads it.

Without it a client could send any amount and the app would read it all before
refusing (64 MiB was seen). The cap is 1 MiB everywhere: a reader's form or JSON call
is a few hundred bytes. A view that needs more says so with `@allows_body(n)`.

The Stripe webhook allows 4 MiB. Stripe truncates nested lists in event payloads, so
real events are small (tens of KB); but refusing a genuine event would lose money data
(Stripe retries, and the retries are refused again), while accepting a large one costs
one HMAC and one row. So that route errs on the generous side, still bounded.

A body announced larger than the cap is refused from its Content-Length alone, before
the rate limiter or the view reads a byte; a body without a length (chunked) is cut off
by Werkzeug's stream limit at the same cap. Either way the answer is a 413 problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

DEFAULT_MAX_BODY = 1024 * 1024
WEBHOOK_MAX_BODY = 4 * 1024 * 1024
_ATTR = "max_body_bytes"
View = TypeVar("View", bound=Callable[..., Any])


def allows_body(max_bytes: int) -> Callable[[View], View]:
    """Let one view take bodies up to `max_bytes` instead of the default."""

    def mark(view: View) -> View:
        setattr(view, _ATTR, max_bytes)
        return view

    return mark


def _limit_for_request() -> int:
    view = current_app.view_functions.get(request.endpoint or "")
    return int(getattr(view, _ATTR, current_app.config["MAX_CONTENT_LENGTH"]))


def _refuse_large_bodies() -> None:
    limit = _limit_for_request()
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"The request body is {request.content_length} bytes; "
                                    f"this address accepts at most {limit} bytes.")
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        # Chunked: read it here, one byte past the cap at most, so an oversized body is
        # a 413 now (Werkzeug's own limit stops quietly at the cap and would hand the
        # view a truncated body).
        request.max_content_length = limit + 1
        if len(request.get_data(cache=True)) > limit:
            raise RequestEntityTooLarge(f"The request body is over {limit} bytes; "
                                        f"this address accepts at most {limit} bytes.")


def install_body_limits(app: Flask) -> None:
    """Call before any extension registers its own before_request hooks."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no cap
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_BODY
    app.before_request(_refuse_large_bodies)
