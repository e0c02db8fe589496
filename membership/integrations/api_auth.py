"""The API-key security scheme (`Authorization: Bearer mk_...`) for the site-facing API.

A scheme per scope, like staff permissions: the guard runs before the request is
parsed, so a missing, unknown or revoked key is a 401 and a key without the scope a
403, both problem bodies that say what is wrong. The key's scopes are kept in the WSGI
environ (request-scoped) for the view to narrow its answer.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from membership.api import REGISTRY, register_security
from membership.errors import Forbidden, Unauthorized
from membership.integrations.apikeys import check_key
from membership.integrations.scopes import SCOPES

SCOPES_KEY = "membership.api_key_scopes"


def require_scope(scope: str) -> str:
    """The security scheme name for `scope` (registered once), for `@operation(security=...)`."""
    if scope not in SCOPES:
        raise ValueError(f"unknown API key scope {scope!r}")
    name = "apiKey." + scope.replace(":", ".")
    if name not in REGISTRY.security:
        register_security(name, {"type": "http", "scheme": "bearer",
                                 "description": f"A server-to-server API key (`flask apikeys create`) holding "
                                                f"`{scope}`: {SCOPES[scope]}"}, _guard(scope))
    return name


def key_scopes() -> tuple[str, ...]:
    scopes = request.environ.get(SCOPES_KEY)
    return scopes if isinstance(scopes, tuple) else ()


def _guard(scope: str) -> Callable[[], None]:
    def guard() -> None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized("Send an API key: Authorization: Bearer <key>.", reason="missing")
        verdict = check_key(key.strip())
        if verdict.key_id is None:
            raise Unauthorized(verdict.detail, reason="unknown_or_revoked")
        if scope not in verdict.scopes:
            raise Forbidden(f"This API key lacks the `{scope}` scope.", scope=scope)
        request.environ[SCOPES_KEY] = verdict.scopes

    return guard
