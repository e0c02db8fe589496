"""Route table for the ``/v1`` API; resource modules register with ``@route``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .engine import Sim


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    args: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Sim, Request], dict[str, Any]]
ROUTES: dict[str, list[tuple[re.Pattern[str], Handler, str]]] = {"GET": [], "POST": [], "DELETE": []}


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register ``pattern`` (``{name}`` = one path segment) for ``method``."""
    rx = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def deco(fn: Handler) -> Handler:
        if "{" in pattern:
            ROUTES[method].append((rx, fn, pattern))
        else:  # literal paths win over patterns (/v1/customers/search vs /v1/customers/{id})
            ROUTES[method].insert(0, (rx, fn, pattern))
        return fn

    return deco


def resolve(method: str, path: str) -> tuple[Handler, dict[str, str], str] | None:
    """The handler, its path arguments and the pattern it was registered with."""
    for rx, fn, pattern in ROUTES.get(method, []):
        m = rx.match(path)
        if m:
            return fn, m.groupdict(), pattern
    return None
