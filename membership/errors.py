"""A small tree of domain errors, each mapped once to an RFC 9457 problem response.

Services raise these; views never build error responses by hand; anything
unexpected becomes a 500 problem body (logged) rather than an HTML traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str = "", **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions


class InvalidInput(DomainError):
    status, title, type_slug = 422, "Invalid input", "invalid-input"


class NotFound(DomainError):
    status, title, type_slug = 404, "Not found", "not-found"


class Forbidden(DomainError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class Unauthorized(DomainError):
    status, title, type_slug = 401, "Sign-in required", "unauthorized"


class Conflict(DomainError):
    status, title, type_slug = 409, "Conflict", "conflict"


class ServiceUnavailable(DomainError):
    status, title, type_slug = 503, "Service unavailable", "unavailable"


def problem(status: int, title: str, detail: str = "", type_slug: str = "about:blank", **ext: Any) -> Response:
    """Build an application/problem+json response."""
    body: dict[str, Any] = {
        "type": type_slug if type_slug == "about:blank" else f"/problems/{type_slug}",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(ext)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return problem(exc.status, exc.title, exc.detail, exc.type_slug, **exc.extensions)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        response = problem(exc.code or 500, exc.name, exc.description or "")
        if exc.code == 405 and exc.response is None:
            valid = getattr(exc, "valid_methods", None)
            if valid:
                response.headers["Allow"] = ", ".join(valid)
        if exc.code == 429:
            retry_after = getattr(exc, "retry_after", None)
            if retry_after:
                response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        from membership.extensions import db

        db.session.rollback()  # a half-done unit of work must not leak into the next request
        return problem(500, "Internal server error", "The error was logged.")
