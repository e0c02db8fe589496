"""Request parsing: pydantic errors become one 422 problem body listing every field.

The raw bytes are validated with `model_validate_json` (strict models), so JSON
types are checked as sent: "5" is not 5, and an unknown key is an error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from membership.errors import DomainError, InvalidInput

M = TypeVar("M", bound=BaseModel)


class MalformedRequest(DomainError):
    status, title, type_slug = 400, "Malformed request", "malformed-request"


class UnsupportedMediaType(DomainError):
    status, title, type_slug = 415, "Unsupported media type", "unsupported-media-type"


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(part) for part in loc)


def invalid_from(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> InvalidInput:
    """The 422 for a pydantic error: one entry per field, never the submitted values."""
    errors = [{"pointer": _pointer(prefix + tuple(e["loc"])), "detail": e["msg"]}
              for e in exc.errors(include_url=False, include_input=False, include_context=False)]
    first = errors[0] if errors else {"pointer": "/", "detail": "invalid"}
    return InvalidInput(f"{first['pointer']}: {first['detail']}", errors=errors)


def parse_body(model: type[M]) -> M:
    """The JSON body as `model`; 415 if not JSON, 400 if unparseable, 422 if invalid."""
    raw = request.get_data(cache=True)
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise MalformedRequest("The body is not valid JSON.") from None
        raise invalid_from(exc) from None


def parse_query(model: type[M]) -> M:
    """Query parameters as `model` (single values; the model declares the types)."""
    data = {key: request.args.get(key) for key in request.args}
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise invalid_from(exc, ("query",)) from None


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Validate a form or other mapping (pages) with the same 422 on failure."""
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise invalid_from(exc) from None
