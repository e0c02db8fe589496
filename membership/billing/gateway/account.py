"""Reading a whole Stripe account through its list endpoints (for `flask stripe adopt`).

Stripe lists newest first and pages by `starting_after` (the last id seen), so a
caller that remembers the last id it handled can resume a walk exactly where it
stopped. The SDK's auto-paging follows the pages; each page is one request (paced
by `client.paced` when the caller asks for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translated
from membership.billing.gateway.shapes import as_dict

Resource = Literal["products", "prices", "customers", "subscriptions", "invoices", "charges", "refunds",
                   "disputes", "payouts", "balance_transactions"]

# In the order adoption needs them: the catalogue, who, what they subscribe to, the
# money, what reversed it, what was paid out, and the balance to tie the books to.
RESOURCES: tuple[Resource, ...] = ("products", "prices", "customers", "subscriptions", "invoices", "charges",
                                   "refunds", "disputes", "payouts", "balance_transactions")

# Lists that hide some objects unless asked: every product and price (archived ones are
# still on old subscriptions), every subscription (canceled ones are history).
# Discounts come expanded as `fetch_subscription` has them (MRR is net of them), and a
# charge's balance transaction with the charge (its fee and net), one request per page.
_FILTERS: dict[Resource, dict[str, object]] = {
    "subscriptions": {"status": "all", "expand": ["data.discounts.source.coupon"]},
    "charges": {"expand": ["data.balance_transaction"]},
}


def _service(resource: Resource) -> Callable[..., Any]:
    v1 = stripe_client().v1
    return getattr(v1, resource).list


def each(resource: Resource, starting_after: str | None = None, ending_before: str | None = None,
         page_size: int = 100) -> Iterator[dict[str, Any]]:
    """Every object of one list endpoint, as plain dicts: older than `starting_after`
    (newest first), or, with `ending_before`, newer than it (oldest first: the SDK walks
    those pages backwards), which is how a walk picks up objects created while it ran.

    Errors come out as `gateway.errors` like every other gateway call.
    """
    params: dict[str, object] = {"limit": page_size, **_FILTERS.get(resource, {})}
    if starting_after:
        params["starting_after"] = starting_after
    elif ending_before:
        params["ending_before"] = ending_before
    with translated():
        page = _service(resource)(params=params)
        iterator = page.auto_paging_iter()
    while True:
        with translated():
            item = next(iterator, None)
        if item is None:
            return
        yield as_dict(item)


def products(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("products", starting_after)


def prices(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("prices", starting_after)


def customers(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("customers", starting_after)


def subscriptions(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("subscriptions", starting_after)


def invoices(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("invoices", starting_after)


def charges(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("charges", starting_after)


def refunds(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("refunds", starting_after)


def disputes(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("disputes", starting_after)


def payouts(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("payouts", starting_after)


def balance_transactions(starting_after: str | None = None) -> Iterator[dict[str, Any]]:
    return each("balance_transactions", starting_after)


def balance() -> dict[str, int]:
    """The account's balance now (available + pending) per upper-case currency."""
    with translated():
        data = as_dict(stripe_client().v1.balance.retrieve())
    totals: dict[str, int] = {}
    for part in ("available", "pending"):
        for entry in data.get(part) or []:
            cur = str(entry["currency"]).upper()
            totals[cur] = totals.get(cur, 0) + int(entry["amount"])
    return totals
