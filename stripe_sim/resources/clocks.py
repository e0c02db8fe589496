"""Test clocks: frozen time per clock; advancing runs everything due in time order."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import DAY, Sim
from ..listing import paginate
from ..params import as_int, as_str
from ..routing import Request, route
from .payouts import start_daily


def ensure_server_payouts(sim: Sim) -> None:
    heap = sim.heaps.get("", [])
    if not any(e[2] == "payout_daily" for e in heap):
        start_daily(sim, None)


def advance(sim: Sim, clock: dict[str, Any], target: int) -> None:
    if target <= int(clock["frozen_time"]):
        raise errors.invalid("The frozen_time must be after the test clock's current frozen_time.", "frozen_time")
    clock["status"] = "advancing"
    clock["status_details"] = {"advancing": {"target_frozen_time": target}}
    sim.emit("test_helpers.test_clock.advancing", clock)
    sim.run_due(clock["id"], target)
    clock.update(frozen_time=target, status="ready", status_details={})
    sim.emit("test_helpers.test_clock.ready", clock)


@route("POST", "/v1/test_helpers/test_clocks")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    frozen = as_int(req.params, "frozen_time", required=True) or 0
    clock = sim.new("clock", "test_helpers.test_clock", None, {
        "deletes_after": sim.now(None) + 30 * DAY, "frozen_time": frozen, "name": as_str(req.params, "name"),
        "status": "ready", "status_details": {}})
    clock.pop("metadata", None)
    clock["created"] = frozen
    start_daily(sim, clock["id"])
    sim.emit("test_helpers.test_clock.created", clock)
    return sim.render(clock)


@route("GET", "/v1/test_helpers/test_clocks/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "test_helpers.test_clock"))


@route("POST", "/v1/test_helpers/test_clocks/{id}/advance")
def _advance(sim: Sim, req: Request) -> dict[str, Any]:
    clock = sim.store.get(req.args["id"], "test_helpers.test_clock")
    advance(sim, clock, as_int(req.params, "frozen_time", required=True) or 0)
    return sim.render(clock)


@route("DELETE", "/v1/test_helpers/test_clocks/{id}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    clock = sim.store.get(req.args["id"], "test_helpers.test_clock")
    clock["deleted"] = True
    sim.heaps.pop(clock["id"], None)
    return {"id": clock["id"], "object": "test_helpers.test_clock", "deleted": True}


@route("GET", "/v1/test_helpers/test_clocks")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    return paginate(sim, req.params, "test_helpers.test_clock", "/v1/test_helpers/test_clocks")
