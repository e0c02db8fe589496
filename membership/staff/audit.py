"""The audit log's one writer for staff requests, and the token's `last_used_at`.

Why an after-request hook and not a call in each view: a new staff route cannot forget
it. Any request that authenticated with a staff token and either writes (POST, PUT,
PATCH, DELETE) or downloads a file (`format=` other than json, or a text/csv body) gets
one entry, refused ones (403, 409, 422, ...) included, with the status in `details`:
an attempt is part of the record. The entry is committed on its own after the view's
own commit; if it cannot be written, a file is not handed out (503) and a write that
already happened is logged loudly.

Console requests (a staff session, membership/console/auth.py) name the same caller with
no token, so the console's writes and downloads are audited by this very hook
(`details.via` says which door).

`last_used_at` is written at most once a minute per token (the check reads the value
loaded at authentication; the UPDATE's WHERE makes concurrent requests write once).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Response, request
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from membership.db import utcnow
from membership.errors import problem
from membership.extensions import db
from membership.staff.auth import Caller, current_caller, is_export
from membership.staff.models import ApiToken, AuditLog
from membership.unit_of_work import unit_of_work

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOUCH_EVERY = timedelta(minutes=1)
_SECRET_FIELDS = frozenset({"csrf_token", "code", "token"})  # console form fields never copied into the log


def after_staff_request(response: Response) -> Response:
    caller = current_caller()
    if caller is None:
        return response
    export = is_export() or response.mimetype == "text/csv"
    audited = request.method in WRITES or export
    now = utcnow()
    touch = caller.token_id is not None and (caller.last_used_at is None
                                             or now - caller.last_used_at >= TOUCH_EVERY)
    if not audited and not touch:
        return response
    try:
        with unit_of_work():  # its own, after the operation's: a refused write is audited too
            if audited:
                db.session.add(_entry(caller, response, export))
            if touch:
                db.session.execute(update(ApiToken).where(
                    ApiToken.id == caller.token_id,
                    or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
                ).values(last_used_at=now))
    except SQLAlchemyError:
        log.exception("staff audit entry not written", extra={"actor": caller.email, "path": request.path})
        if export and response.status_code < 400:
            return problem(503, "Service unavailable", "The export could not be recorded in the audit log; "
                           "retry later.", "unavailable")
    return response


def _text(value: str) -> str:
    """PostgreSQL text and JSON cannot hold NUL: a request carrying one is still audited."""
    return value.replace("\x00", "\ufffd")


def _entry(caller: Caller, response: Response, export: bool) -> AuditLog:
    """action: the operation id (as in /api/openapi.json); target: the path's resource id
    when it has one, else the path."""
    view_args: dict[str, Any] = dict(request.view_args or {})
    if view_args:
        key, value = next(iter(view_args.items()))
        target_type, target_id = key.removesuffix("_id"), str(value)
    else:
        target_type, target_id = "path", _text(request.path[:255])
    details: dict[str, Any] = {"method": request.method, "path": _text(request.path[:500]), "status": response.status_code,
                               "via": "api" if caller.token_id is not None else "console"}
    if caller.token_id is None and request.form:
        details["form"] = {_text(k): _text(v[:200]) for k, v in request.form.items() if k not in _SECRET_FIELDS}
    if request.args:
        details["query"] = {_text(k): _text(v[:200]) for k, v in request.args.items()}
    if export:
        details["export"] = True
        if "X-Report" in response.headers:
            details["report"] = response.headers["X-Report"]
    elif response.is_json and not response.is_streamed:
        body = response.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("id"), int):
            details["result_id"] = body["id"]
    action = (request.endpoint or request.method.lower())[:64]
    return AuditLog(actor=caller.email, action=action, target_type=target_type[:64], target_id=target_id,
                    details=details, at=utcnow())
