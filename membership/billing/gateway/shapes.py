"""Reading Stripe's objects into plain values: the few helpers every family shares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def as_dict(obj: Any) -> dict[str, Any]:
    """A StripeObject (or an already plain dict) as a plain recursive dict."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return dict(obj.to_dict(recursive=True))


def id_of(ref: Any) -> str | None:
    """The id of a reference Stripe may render as an id or as the expanded object."""
    if isinstance(ref, dict):
        ref = ref.get("id")
    return str(ref) if ref else None


def currency(value: Any, default: str | None = None) -> str | None:
    """Currencies in this project are upper-case ISO codes; Stripe writes lower case."""
    return str(value).upper() if value else default


def metadata(obj: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}


def every(page: Any) -> Iterator[dict[str, Any]]:
    """Every item of a list endpoint, following pages, as plain dicts."""
    for item in page.auto_paging_iter():
        yield as_dict(item)
