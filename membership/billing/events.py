"""Stripe event dispatch: which handlers act on which event type.

Handlers live in `membership/billing/handlers/` (and the ledger), one module per
concern; each registers itself with `@handles(...)`. The webhook worker calls
`dispatch(event)` inside one transaction per event. A handler must be idempotent:
the same event may arrive many times and in any order.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# One line per handler module; importing a module registers its handlers.
HANDLER_MODULES: tuple[str, ...] = (
    "membership.billing.handlers.subscriptions",
    "membership.billing.handlers.checkout",
    "membership.billing.handlers.customers",
    "membership.billing.handlers.invoices_dunning",
    "membership.billing.handlers.payments",
    "membership.billing.handlers.gifts",
    "membership.billing.handlers.refunds",
    "membership.billing.handlers.disputes",
    "membership.billing.handlers.payouts",
)


@dataclass(frozen=True)
class StripeEvent:
    """The parts of a stored event a handler may use. Re-fetch the object before
    writing state: `object` is rendered in the endpoint's API version and may be stale.
    """

    id: str
    type: str
    created: int
    api_version: str | None
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None
    webhook_event_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def object_id(self) -> str | None:
        value = self.object.get("id")
        return str(value) if value else None

    @classmethod
    def from_payload(cls, payload: dict[str, Any], webhook_event_id: int | None = None) -> StripeEvent:
        data = payload.get("data") or {}
        return cls(
            id=payload["id"], type=payload["type"], created=int(payload.get("created") or 0),
            api_version=payload.get("api_version"), object=data.get("object") or {},
            previous_attributes=data.get("previous_attributes"), webhook_event_id=webhook_event_id,
        )


class RetryLater(Exception):
    """Raised by a handler when it cannot act yet (e.g. the reader is not known yet):
    the worker retries with backoff and finally marks the event dead for staff."""


Handler = Callable[[StripeEvent], None]
_HANDLERS: dict[str, list[Handler]] = defaultdict(list)
_loaded = False


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for event_type in event_types:
            if fn not in _HANDLERS[event_type]:
                _HANDLERS[event_type].append(fn)
        return fn

    return register


def load_handlers() -> None:
    global _loaded
    if not _loaded:
        for module in HANDLER_MODULES:
            importlib.import_module(module)
        _loaded = True


def handlers_for(event_type: str) -> list[Handler]:
    load_handlers()
    return list(_HANDLERS.get(event_type, ()))


def dispatch(event: StripeEvent) -> int:
    """Run every handler for the event's type; returns how many ran (0 = ignored type)."""
    handlers = handlers_for(event.type)
    for handler in handlers:
        handler(event)
    return len(handlers)
