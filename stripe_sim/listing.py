"""List pagination and ``expand[]``, shared by every resource.

Stripe lists newest first; ``starting_after``/``ending_before`` are cursors by
id. Expansion works on the rendered JSON: a string id at the path is swapped
for the rendered object (element-wise in a plain list, e.g. ``discounts``),
``data.`` walks into list objects, and a few fields
(``invoice.payments``, ``checkout.session.line_items``) only exist when
expanded ("includable" in Stripe's words).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .engine import INCLUDABLE, Sim, list_object
from .errors import invalid
from .params import as_int, as_list

Pred = Callable[[dict[str, Any]], bool]

_OPS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
}


def range_pred(params: dict[str, Any], key: str) -> Pred | None:
    """``created[gte]=...`` style filters (or an exact ``created=...``)."""
    raw = params.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, dict):
        checks = []
        for op, val in raw.items():
            if op not in _OPS:
                raise invalid(f"Invalid {key} filter: {op}", key)
            checks.append((_OPS[op], int(val)))
        return lambda o: all(fn(int(o.get(key) or 0), v) for fn, v in checks)
    exact = int(raw)
    return lambda o: o.get(key) == exact


def paginate(sim: Sim, params: dict[str, Any], kind: str, url: str, preds: list[Pred | None] | None = None) -> dict[str, Any]:
    limit = as_int(params, "limit", 10) or 10
    if limit < 1 or limit > 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    active = [p for p in (preds or []) if p is not None]
    created = range_pred(params, "created")
    if created is not None:
        active.append(created)

    def pred(o: dict[str, Any]) -> bool:
        return all(p(o) for p in active)

    after = params.get("starting_after") or None
    before = params.get("ending_before") or None
    it = sim.store.iter_newest(kind, pred)
    if before:
        sim.store.get(before, param="ending_before")
        newer: list[dict[str, Any]] = []
        for o in it:
            if o["id"] == before:
                break
            newer.append(o)
        page = newer[-limit:]
        has_more = len(newer) > limit
    else:
        if after:
            sim.store.get(after, param="starting_after")
            for o in it:
                if o["id"] == after:
                    break
        page = []
        has_more = False
        for o in it:
            if len(page) == limit:
                has_more = True
                break
            page.append(o)
    return list_object([sim.render(o) for o in page], url, has_more)


def _expand_one(sim: Sim, holder: dict[str, Any], parts: list[str]) -> None:
    if not parts or not isinstance(holder, dict):
        return
    head, rest = parts[0], parts[1:]
    if holder.get("object") == "list" and head == "data":
        # copy on the way down: rendered objects may share nested dicts with the store
        holder["data"] = [dict(i) if isinstance(i, dict) else i for i in holder.get("data", [])]
        for item in holder["data"]:
            _expand_one(sim, item, rest)
        return
    value = holder.get(head)
    if isinstance(value, list):  # e.g. subscription.discounts: ids, or dicts holding ids
        holder[head] = [_expand_item(sim, v, rest) for v in value]
        return
    if isinstance(value, str):
        target = sim.store.find(value)
        if target is not None:
            value = sim.render(target)
            holder[head] = value
    elif value is None:
        maker = INCLUDABLE.get((str(holder.get("object")), head))
        src = sim.store.find(holder.get("id"))
        if maker is not None and src is not None:
            value = maker(sim, src)
            holder[head] = value
    if isinstance(value, dict) and rest:
        value = dict(value)
        holder[head] = value
        _expand_one(sim, value, rest)


def _expand_item(sim: Sim, value: Any, rest: list[str]) -> Any:
    """One element of an expanded list: an id becomes its object, a dict is copied before walking on."""
    if isinstance(value, str):
        target = sim.store.find(value)
        if target is None:
            return value
        value = sim.render(target)
    if isinstance(value, dict):
        value = dict(value)
        if rest:
            _expand_one(sim, value, rest)
    return value


def expand(sim: Sim, body: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Apply ``expand[]`` to a rendered response in place (max depth 4, as Stripe)."""
    for path in as_list(params, "expand"):
        parts = str(path).split(".")
        if len([p for p in parts if p != "data"]) > 4:
            raise invalid("You cannot expand more than 4 levels of a property.", "expand")
        _expand_one(sim, body, parts)
    return body
