"""Decode Stripe's form encoding into nested Python values.

The SDK flattens params into ``a[b][c]=v`` and arrays into ``a[0][x]=v``
(see ``stripe/_encode.py``); Stripe itself also accepts ``a[]=v``. We rebuild
dicts, turn dicts whose keys are all integers into lists, and keep values as
strings: handlers coerce with the helpers below, as Stripe's API does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid

_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


def _split(key: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _KEY.finditer(key)]


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        value = {k: _listify(v) for k, v in value.items()}
        if value and all(k.isdigit() or k == "" for k in value):
            if "" in value:
                return value[""] if isinstance(value[""], list) else [value[""]]
            return [value[k] for k in sorted(value, key=int)]
    return value


def decode(raw: str) -> dict[str, Any]:
    """Parse a query string or form body into nested dicts/lists of strings."""
    out: dict[str, Any] = {}
    for key, val in parse_qsl(raw, keep_blank_values=True):
        parts = _split(key)
        if not parts:
            continue
        node: dict[str, Any] = out
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        last = parts[-1]
        if last == "":
            existing = node.get("")
            if isinstance(existing, list):
                existing.append(val)
            else:
                node[""] = [val]
        else:
            node[last] = val
    result = _listify(out)
    assert isinstance(result, dict)
    return result


def as_int(params: dict[str, Any], key: str, default: int | None = None, required: bool = False) -> int | None:
    """Integer param; Stripe answers 400 for a non-integer."""
    if key not in params or params[key] in (None, ""):
        if required:
            raise invalid(f"Missing required param: {key}.", key)
        return default
    try:
        return int(params[key])
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {params[key]}", key) from None


def as_bool(params: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    if key not in params or params[key] in (None, ""):
        return default
    v = str(params[key]).lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise invalid(f"Invalid boolean: {params[key]}", key)


def as_str(params: dict[str, Any], key: str, default: str | None = None, required: bool = False) -> str | None:
    v = params.get(key)
    if v is None or v == "":
        if required:
            raise invalid(f"Missing required param: {key}.", key)
        return default
    if not isinstance(v, str):
        raise invalid(f"Invalid string: {key}", key)
    return v


def as_list(params: dict[str, Any], key: str) -> list[Any]:
    v = params.get(key)
    if v is None or v == "":
        return []
    if isinstance(v, list):
        return v
    if isinstance(v, dict):
        return list(v.values())
    return [v]


def as_dict(params: dict[str, Any], key: str) -> dict[str, Any]:
    v = params.get(key)
    if isinstance(v, dict):
        return v
    return {}


def metadata(params: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge ``metadata[k]=v``; an empty value deletes k, ``metadata=`` clears all."""
    md = dict(current or {})
    raw = params.get("metadata")
    if raw == "":
        return {}
    if isinstance(raw, dict):
        for k, v in raw.items():
            if v == "" or v is None:
                md.pop(k, None)
            else:
                md[k] = str(v)
    return md
