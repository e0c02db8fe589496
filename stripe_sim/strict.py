"""Refuse unknown parameters the way Stripe does, using the SDK's own parameter schemas.

stripe-python 16 is generated from the OpenAPI spec of the API version the
simulator claims: every service method names a ``...Params`` TypedDict listing
exactly the parameters Stripe accepts, nested ones included. Reading those
(rather than keeping our own lists) means a typo in product code fails in
tests with Stripe's 400 (``parameter_unknown``) instead of in production, and
an SDK upgrade moves the allow-lists with it. Routes the SDK does not know
(none today) are not checked.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
from pathlib import Path
from typing import Any

import stripe
from stripe._request_options import RequestOptions
from typing_extensions import is_typeddict

from .errors import StripeError

# A schema node: allowed keys -> child node (None = a leaf or a free-form map such as metadata).
Node = dict[str, Any]

_PARAMS = re.compile(r'params: (?:Optional\[\s*)?"(\w+Params)"')
_CALL = re.compile(r'self\._request(?:_async)?\(\s*"(get|post|delete)",\s*"(/v1/[^"]+)"')
_IMPORT = re.compile(r"from (stripe\.params[\w.]*) import \(?\s*(\w+)")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_OPTIONS = frozenset(RequestOptions.__annotations__)

_lock = threading.Lock()
_index: dict[tuple[str, str], tuple[str, str]] | None = None
_nodes: dict[tuple[str, str], Node] = {}


def _norm(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path)


def _build_index() -> dict[tuple[str, str], tuple[str, str]]:
    """(METHOD, normalised path) -> (params module, Params class), from the SDK's service modules."""
    root = Path(stripe.__file__).parent
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for svc in root.rglob("*_service.py"):
        if "v2" in svc.relative_to(root).parts:
            continue
        text = svc.read_text(encoding="utf-8")
        modules = {name: mod for mod, name in _IMPORT.findall(text)}
        for block in text.split("\n    def ")[1:]:
            cls, call = _PARAMS.search(block), _CALL.search(block)
            if cls and call and cls.group(1) in modules:
                out.setdefault((call.group(1).upper(), _norm(call.group(2))), (modules[cls.group(1)], cls.group(1)))
    return out


def _node(module: str, cls_name: str) -> Node:
    key = (module, cls_name)
    if key not in _nodes:
        _nodes[key] = {}  # placeholder first: schemas can be recursive
        mod = sys.modules.get(module) or importlib.import_module(module)
        _nodes[key].update(_fields(mod, getattr(mod, cls_name)))
    return _nodes[key]


def _fields(mod: Any, cls: Any) -> Node:
    out: Node = {}
    for name, ann in cls.__annotations__.items():
        if name in _OPTIONS:  # api_key, idempotency_key, ...: options the SDK sends as headers
            continue
        text = str(ann)
        nested = [n for n in _IDENT.findall(text) if is_typeddict(getattr(mod, n, None))]
        if nested and not ("Dict[" in text or "Mapping[" in text):
            merged: Node = {}
            for n in nested:
                merged.update(_node(mod.__name__, n))
            out[name] = merged
        else:
            out[name] = None
    return out


def schema_for(method: str, pattern: str) -> Node | None:
    global _index
    with _lock:
        if _index is None:
            _index = _build_index()
        found = _index.get((method, _norm(pattern)))
        if found is None:
            return None
        return _node(*found)


def _unknown(param: str) -> StripeError:
    return StripeError(400, "invalid_request_error", f"Received unknown parameter: {param}",
                       code="parameter_unknown", param=param)


def _check(node: Node, value: dict[str, Any], prefix: str) -> None:
    for key, sub in value.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in node:
            raise _unknown(name)
        child = node[key]
        if not child:
            continue
        if isinstance(sub, dict):
            _check(child, sub, name)
        elif isinstance(sub, list):
            for i, item in enumerate(sub):
                if isinstance(item, dict):
                    _check(child, item, f"{name}[{i}]")


def check(method: str, pattern: str, params: dict[str, Any]) -> None:
    """400 ``parameter_unknown`` naming the first parameter Stripe would not accept here."""
    node = schema_for(method, pattern)
    if node is not None:
        _check(node, params, "")
