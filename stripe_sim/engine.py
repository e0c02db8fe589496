"""The simulator core: config, simulated time, events and renderers.

Resource modules register how their objects render (``RENDERERS``) and what
to do when something falls due (``DUE``); the HTTP layer and the clocks only
talk to :class:`Sim`. Everything runs under ``store.lock``.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe

from .store import Store

API_VERSION: str = stripe.api_version
DAY = 86400

Renderer = Callable[["Sim", dict[str, Any]], dict[str, Any]]
DueHandler = Callable[["Sim", str, int], None]
RENDERERS: dict[str, Renderer] = {}
INCLUDABLE: dict[tuple[str, str], Renderer] = {}
DUE: dict[str, DueHandler] = {}


@dataclass
class Config:
    """Account-level settings Stripe keeps in the Dashboard."""

    webhook_secret: str | None = None
    fee_percent_bps: int = 290
    fee_fixed_minor: int = 30
    dispute_fee_minor: int = 1500
    retry_days: tuple[int, ...] = (3, 5, 7)
    dunning_final: str = "cancel"  # or "unpaid"
    upcoming_days: int = 7
    incomplete_expire_seconds: int = 23 * 3600
    trial_will_end_days: int = 3
    payout_delay_days: int = 2
    faults: dict[str, Any] | None = None
    webhook_retry_delays: tuple[float, ...] = (0.2, 1.0, 3.0)


@dataclass
class RequestCtx:
    """Who caused the events emitted now (``event.request``)."""

    request_id: str | None = None
    idempotency_key: str | None = None


class Sim:
    """State + behaviour, independent of HTTP so tests of the core stay cheap."""

    def __init__(self, config: Config, url: str = "") -> None:
        self.config = config
        self.store = Store()
        self.url = url
        self.offset = 0  # server-wide clock = wall clock + offset
        self.cursor: dict[str, int] = {}  # clock key -> time while running due work
        self.heaps: dict[str, list[list[Any]]] = {}
        self.seq = 0
        self.ctx = RequestCtx()
        self.on_event: Callable[[dict[str, Any]], None] | None = None
        self.endpoints_for: Callable[[str], int] = lambda _t: 0
        self.batch: list[tuple[str, dict[str, Any], dict[str, Any] | None, str | None]] | None = None

    # -- time ----------------------------------------------------------------
    def now(self, clock: str | None = None) -> int:
        key = clock or ""
        if key in self.cursor:
            return self.cursor[key]
        if clock:
            c = self.store.find(clock)
            if c is not None:
                return int(c["frozen_time"])
        return int(time.time()) + self.offset

    def clock_of_customer(self, customer: str | None) -> str | None:
        cus = self.store.find(customer) if customer else None
        return cus.get("test_clock") if cus else None

    def clock_of(self, obj: dict[str, Any]) -> str | None:
        """The test clock governing an object (via its customer)."""
        meta = self.store.meta.get(obj["id"])
        if meta and "clock" in meta:
            clock: str | None = meta["clock"]
            return clock
        if obj.get("object") == "customer":
            return obj.get("test_clock")
        cus = obj.get("customer")
        return self.clock_of_customer(cus if isinstance(cus, str) else None)

    def schedule(self, clock: str | None, when: int, kind: str, oid: str) -> None:
        self.seq += 1
        heapq.heappush(self.heaps.setdefault(clock or "", []), [when, self.seq, kind, oid])

    def run_due(self, clock: str | None, until: int) -> int:
        """Run every scheduled action on ``clock`` due at or before ``until``, in time order."""
        key = clock or ""
        heap = self.heaps.setdefault(key, [])
        ran = 0
        # a test clock never runs backwards: work due "now" runs at its current frozen time
        floor = self.now(clock) if clock else 0
        while heap and heap[0][0] <= until:
            when, _seq, kind, oid = heapq.heappop(heap)
            self.cursor[key] = max(int(when), self.cursor.get(key, floor))
            if clock:
                c = self.store.find(clock)
                if c is not None:
                    c["frozen_time"] = self.cursor[key]
            try:
                DUE[kind](self, oid, self.cursor[key])
            finally:
                ran += 1
        self.cursor.pop(key, None)
        return ran

    def settle(self) -> None:
        """Run what is due on every clock at its current time (follow-ups of a request)."""
        for key in list(self.heaps):
            clock = key or None
            if clock and self.store.find(clock) is None:
                continue
            self.run_due(clock, self.now(clock))

    # -- objects -------------------------------------------------------------
    def new(self, prefix: str, obj_type: str, clock: str | None, body: dict[str, Any], **meta: Any) -> dict[str, Any]:
        """Create an object with the fields every Stripe object shares."""
        obj: dict[str, Any] = {"id": self.store.new_id(prefix), "object": obj_type}
        obj.update(body)
        obj.setdefault("created", self.now(clock))
        obj.setdefault("livemode", False)
        obj.setdefault("metadata", {})
        if clock:
            meta["clock"] = clock
        return self.store.add(obj, **meta)

    def render(self, obj: dict[str, Any]) -> dict[str, Any]:
        fn = RENDERERS.get(obj.get("object", ""))
        return fn(self, obj) if fn else dict(obj)

    def snapshot(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A deep, JSON-only copy; a C-speed JSON round trip beats copy.deepcopy several times over."""
        snap: dict[str, Any] = json.loads(json.dumps(self.render(obj)))
        return snap

    # -- events --------------------------------------------------------------
    def emit(self, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None,
             clock: str | None = None) -> dict[str, Any]:
        """Record an event with a full snapshot and hand it to webhook delivery."""
        if clock is None and obj.get("id"):
            clock = self.clock_of(obj)
        if self.batch is not None:
            self.batch.append((type_, self.snapshot(obj), previous, clock))
            return {}
        return self._record(type_, self.snapshot(obj), previous, clock)

    def begin_batch(self) -> None:
        """Hold events so a multi-object operation can publish them in Stripe's order."""
        self.batch = []

    def flush_batch(self, first: tuple[str, ...] = (), last: tuple[str, ...] = ()) -> None:
        held, self.batch = self.batch or [], None
        rank = {t: i for i, t in enumerate(first)}
        tail = {t: i for i, t in enumerate(last)}
        ordered = sorted(enumerate(held), key=lambda p: (
            0 if p[1][0] in rank else (2 if p[1][0] in tail else 1),
            rank.get(p[1][0], tail.get(p[1][0], 0)), p[0]))
        for _i, (type_, snap, previous, clock) in ordered:
            self._record(type_, snap, previous, clock)

    def _record(self, type_: str, snap: dict[str, Any], previous: dict[str, Any] | None,
                clock: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {"object": snap}
        if previous is not None:
            data["previous_attributes"] = previous
        evt = self.new("evt", "event", clock, {
            "api_version": API_VERSION,
            "data": data,
            "pending_webhooks": self.endpoints_for(type_),
            "request": {"id": self.ctx.request_id, "idempotency_key": self.ctx.idempotency_key},
            "type": type_,
        })
        evt.pop("metadata", None)
        meta = self.store.m(evt["id"])
        meta["emitted_at"] = self.now(None)
        if self.on_event is not None:
            self.on_event(evt)
        return evt

    def emit_updated(self, type_: str, obj: dict[str, Any], before: dict[str, Any]) -> dict[str, Any] | None:
        """``*.updated`` with ``previous_attributes`` = changed top-level keys; none if unchanged."""
        after = self.render(obj)
        prev = {k: v for k, v in before.items() if after.get(k) != v}
        for k in after:
            if k not in before:
                prev[k] = None
        if not prev:
            return None
        prev_copy: dict[str, Any] = json.loads(json.dumps(prev))
        return self.emit(type_, obj, prev_copy)

    # -- persistence helpers -----------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"offset": self.offset, "heaps": self.heaps, "seq": self.seq}

    def restore_extra(self, extra: dict[str, Any]) -> None:
        self.offset = int(extra.get("offset", 0))
        self.heaps = {k: [list(e) for e in v] for k, v in extra.get("heaps", {}).items()}
        for h in self.heaps.values():
            heapq.heapify(h)
        self.seq = int(extra.get("seq", 0))


def list_object(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
