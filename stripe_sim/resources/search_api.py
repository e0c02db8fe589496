"""``GET /v1/{customers,subscriptions,invoices,charges}/search``: Stripe's search endpoints.

Answers are ``search_result`` objects (``data``, ``has_more``, ``next_page``,
``url``; ``total_count`` only with ``expand[]=total_count``), newest first.
``page`` is the opaque cursor from ``next_page``. Each resource searches only
the fields Stripe lists for it; deleted customers are never found.
"""

from __future__ import annotations

from typing import Any

from ..engine import Sim
from ..errors import invalid
from ..params import as_int, as_list, as_str
from ..routing import Request, route
from ..search import Getter, matcher
from .invoices import sub_of


def _get(key: str) -> Getter:
    return lambda o: o.get(key)


def _card(field: str) -> Getter:
    return lambda o: ((o.get("payment_method_details") or {}).get("card") or {}).get(field)


_META: Getter = lambda o: None  # noqa: E731 - metadata is read by key in search.matcher
_FIELDS: dict[str, dict[str, Getter]] = {
    "customers": {"created": _get("created"), "email": _get("email"), "metadata": _META, "name": _get("name"),
                  "phone": _get("phone")},
    "subscriptions": {"created": _get("created"), "metadata": _META, "status": _get("status")},
    "invoices": {"created": _get("created"), "currency": _get("currency"), "customer": _get("customer"),
                 "metadata": _META, "number": _get("number"), "receipt_number": _get("receipt_number"),
                 "status": _get("status"), "subscription": sub_of, "total": _get("total")},
    "charges": {"amount": _get("amount"), "created": _get("created"), "currency": _get("currency"),
                "customer": _get("customer"), "disputed": _get("disputed"), "metadata": _META,
                "payment_method_details.card.last4": _card("last4"),
                "payment_method_details.card.brand": _card("brand"),
                "payment_intent": _get("payment_intent"), "refunded": _get("refunded"), "status": _get("status")},
}
_KIND = {"customers": "customer", "subscriptions": "subscription", "invoices": "invoice", "charges": "charge"}


def _search(sim: Sim, req: Request, resource: str) -> dict[str, Any]:
    p = req.params
    pred = matcher(as_str(p, "query", required=True) or "", _FIELDS[resource], resource)
    limit = as_int(p, "limit", 10) or 10
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    page = as_str(p, "page")
    start = 0
    if page:
        if not page.startswith("sp_") or not page[3:].isdigit():
            raise invalid("Invalid page: use the next_page value of a previous search.", "page")
        start = int(page[3:])
    hits = list(sim.store.iter_newest(_KIND[resource], pred))
    chunk = hits[start:start + limit]
    more = len(hits) > start + limit
    out: dict[str, Any] = {"object": "search_result", "data": [sim.render(o) for o in chunk], "has_more": more,
                           "next_page": f"sp_{start + limit}" if more else None, "url": f"/v1/{resource}/search"}
    if "total_count" in as_list(p, "expand"):
        out["total_count"] = len(hits)
    return out


@route("GET", "/v1/customers/search")
def _customers(sim: Sim, req: Request) -> dict[str, Any]:
    return _search(sim, req, "customers")


@route("GET", "/v1/subscriptions/search")
def _subscriptions(sim: Sim, req: Request) -> dict[str, Any]:
    return _search(sim, req, "subscriptions")


@route("GET", "/v1/invoices/search")
def _invoices(sim: Sim, req: Request) -> dict[str, Any]:
    return _search(sim, req, "invoices")


@route("GET", "/v1/charges/search")
def _charges(sim: Sim, req: Request) -> dict[str, Any]:
    return _search(sim, req, "charges")
