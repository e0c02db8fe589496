"""In-memory state: objects by id, per-type creation order, ids, persistence.

One re-entrant lock guards everything: the simulator is a test double, so a
serialised mutation path is simpler to reason about than fine-grained locks
and is still far faster than the SDK calling it.
"""

from __future__ import annotations

import json
import os
import random
import string
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from .errors import missing

_ALPHABET = string.ascii_letters + string.digits

# Human names used in "No such <kind>" messages, keyed by id prefix.
KIND_BY_PREFIX = {
    "cus": "customer", "prod": "product", "price": "price", "cs": "checkout.session",
    "sub": "subscription", "si": "subscription_item", "pm": "PaymentMethod", "in": "invoice",
    "il": "line_item", "inpay": "invoice_payment", "ch": "charge", "py": "charge",
    "pi": "payment_intent", "txn": "balance_transaction", "re": "refund", "dp": "dispute",
    "du": "dispute", "po": "payout", "bps": "billing_portal.session", "evt": "event",
    "we": "webhook_endpoint", "clock": "test_helpers.test_clock", "ii": "invoiceitem",
    "di": "discount", "txr": "tax_rate", "txi": "tax_id", "plink": "payment_link",
    "bpc": "billing_portal.configuration",
}


class Store:
    """All simulator objects plus the bookkeeping Stripe keeps out of them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Any]] = {}
        self.order: dict[str, list[str]] = {}
        self.meta: dict[str, dict[str, Any]] = {}
        self.idem: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.settings: dict[str, Any] = {}
        self._rand = random.Random(os.urandom(16))
        self.dirty = False

    def new_id(self, prefix: str, length: int = 24) -> str:
        return f"{prefix}_" + "".join(self._rand.choices(_ALPHABET, k=length))

    def secret(self, prefix: str) -> str:
        return self.new_id(prefix, 32)

    def add(self, obj: dict[str, Any], **meta: Any) -> dict[str, Any]:
        oid = obj["id"]
        self.objects[oid] = obj
        self.order.setdefault(obj["object"], []).append(oid)
        if meta:
            self.meta[oid] = dict(meta)
        self.dirty = True
        return obj

    def get(self, oid: Any, kind: str | None = None, param: str = "id") -> dict[str, Any]:
        """Fetch by id, optionally insisting on the object type (404 otherwise)."""
        obj = self.objects.get(oid) if isinstance(oid, str) else None
        if obj is None or (kind is not None and obj["object"] != kind):
            name = kind or KIND_BY_PREFIX.get(str(oid).split("_", 1)[0], "object")
            raise missing(name.split(".")[-1].replace("_", " ") if kind else name, str(oid), param)
        return obj

    def find(self, oid: Any) -> dict[str, Any] | None:
        return self.objects.get(oid) if isinstance(oid, str) else None

    def m(self, oid: str) -> dict[str, Any]:
        """Internal (never rendered) attributes of an object."""
        return self.meta.setdefault(oid, {})

    def iter_newest(self, kind: str, pred: Callable[[dict[str, Any]], bool] | None = None) -> Iterator[dict[str, Any]]:
        ids = self.order.get(kind, [])
        for oid in reversed(ids):
            obj = self.objects.get(oid)
            if obj is None or obj.get("deleted"):
                continue
            if pred is None or pred(obj):
                yield obj

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [self.objects[i] for i in self.order.get(kind, []) if i in self.objects]

    def remember_idempotent(self, key: str, entry: dict[str, Any], cap: int = 50_000) -> None:
        self.idem[key] = entry
        while len(self.idem) > cap:
            self.idem.popitem(last=False)

    # -- persistence -------------------------------------------------------
    def dump(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {"objects": self.objects, "order": self.order, "meta": self.meta,
                "settings": self.settings, "extra": extra}

    def save(self, path: str, extra: dict[str, Any]) -> None:
        """Atomic write so a crash mid-save never leaves a truncated state file."""
        with self.lock:
            data = json.dumps(self.dump(extra))
            self.dirty = False
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def load(self, path: str) -> dict[str, Any]:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        self.objects = data["objects"]
        self.order = data["order"]
        self.meta = data["meta"]
        self.settings = data.get("settings", {})
        extra: dict[str, Any] = data.get("extra", {})
        return extra
