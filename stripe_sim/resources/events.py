"""Events API: list/retrieve with Stripe's filters; 30 days of history."""

from __future__ import annotations

from typing import Any

from ..engine import DAY, Sim
from ..listing import paginate
from ..params import as_bool, as_list, as_str
from ..routing import Request, route

RETENTION = 30 * DAY


def _type_pred(patterns: list[str]) -> Any:
    exact = {p for p in patterns if "*" not in p}
    prefixes = tuple(p.rstrip("*") for p in patterns if p.endswith("*"))
    return lambda o: o["type"] in exact or (bool(prefixes) and o["type"].startswith(prefixes))


@route("GET", "/v1/events")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    types = as_list(p, "types")
    one = as_str(p, "type")
    if one:
        types = [one]
    delivered = as_bool(p, "delivery_success")
    horizon = sim.now(None) - RETENTION
    return paginate(sim, p, "event", "/v1/events", [
        lambda o: int((sim.store.meta.get(o["id"]) or {}).get("emitted_at") or o["created"]) >= horizon,
        _type_pred(types) if types else None,
        (lambda o: (o["pending_webhooks"] == 0) == delivered) if delivered is not None else None,
    ])


@route("GET", "/v1/events/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "event"))
