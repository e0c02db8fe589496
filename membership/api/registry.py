"""`@operation`: one decorator that routes, guards, validates and documents an endpoint.

Why a registry instead of an OpenAPI framework: the app is plain Flask blueprints;
one small decorator keeps views ordinary functions while giving every endpoint the
same behaviour: the security guard runs first (401/403 before anything is parsed),
then the body/query is validated by a strict pydantic model (unknown fields and
wrong types are 422 problem details), then the view runs; a returned model is
serialised with the declared status.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, ConfigDict, field_validator

from membership.api.validation import parse_body, parse_query
from membership.errors import DomainError, NotFound
from membership.extensions import db
from membership.unit_of_work import unit_of_work


class ApiModel(BaseModel):
    """Base of every request model: unknown fields, type coercion and NUL characters
    (PostgreSQL text cannot store them) are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in items):
            raise ValueError("NUL characters are not allowed")
        return value


Guard = Callable[[], None]


@dataclass
class SecurityScheme:
    name: str
    scheme: dict[str, Any]
    guard: Guard
    errors: tuple[int, ...] = (401, 403)


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI form: /api/things/{thing_id}
    summary: str
    tag: str
    operation_id: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    security: str | None = None
    errors: tuple[int, ...] = ()
    path_params: dict[str, str] = field(default_factory=dict)  # name -> "integer" | "string"
    description: str = ""
    also_produces: tuple[str, ...] = ()  # e.g. ("text/csv",): the view returns a Response for those


@dataclass
class Registry:
    operations: list[Operation] = field(default_factory=list)
    security: dict[str, SecurityScheme] = field(default_factory=dict)

    def add(self, op: Operation) -> None:
        if not any(o.method == op.method and o.path == op.path for o in self.operations):
            self.operations.append(op)


REGISTRY = Registry()
MAX_ID = 2**63 - 1
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def register_security(name: str, scheme: dict[str, Any], guard: Guard, errors: tuple[int, ...] = (401, 403)) -> None:
    """Declare a security scheme (OpenAPI components) and the guard that enforces it."""
    REGISTRY.security[name] = SecurityScheme(name, scheme, guard, errors)


def _openapi_path(prefix: str, rule: str) -> tuple[str, dict[str, str]]:
    params: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        params[m.group(2)] = "integer" if m.group(1) == "int" else "string"
        return "{" + m.group(2) + "}"

    return _CONVERTER.sub(repl, prefix.rstrip("/") + rule), params


def operation(
    bp: Blueprint, rule: str, method: str = "GET", *, summary: str, tag: str,
    body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None, status: int = 200, security: str | None = None,
    errors: tuple[int, ...] = (), decorators: Sequence[Callable[[Callable[..., Any]], Callable[..., Any]]] = (),
    also_produces: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `rule` on `bp` (which must have its url_prefix set at construction).

    The view receives `body=` / `query=` (validated models) besides its path args.
    `decorators` wrap the registered view (e.g. rate limits; then list 429 in `errors`).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        path, path_params = _openapi_path(bp.url_prefix or "", rule)
        op = Operation(method.upper(), path, summary, tag, f"{bp.name}.{fn.__name__}", body, query, response,
                       status, security, errors, path_params, (fn.__doc__ or "").strip(), also_produces)
        REGISTRY.add(op)

        @functools.wraps(fn)
        def view(**kwargs: Any) -> Any:
            for name, kind in path_params.items():
                if kind == "integer" and not 1 <= kwargs[name] <= MAX_ID:
                    raise NotFound("No such resource.")  # beyond BIGINT: cannot exist
            try:
                if security:
                    REGISTRY.security[security].guard()
                if body is not None:
                    kwargs["body"] = parse_body(body)
                if query is not None:
                    kwargs["query"] = parse_query(query)
                with unit_of_work():  # one commit on success; a refusal or error changes nothing
                    result = fn(**kwargs)
            except DomainError:
                db.session.rollback()  # a refused guard or body changes nothing either
                raise
            if isinstance(result, BaseModel):
                out = jsonify(result.model_dump(mode="json"))
                out.status_code = status
                return out
            if result is None:
                return Response(status=204)
            return result

        wrapped: Callable[..., Any] = view
        for deco in reversed(decorators):
            wrapped = deco(wrapped)
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=wrapped, methods=[method.upper()])
        return wrapped

    return decorate
