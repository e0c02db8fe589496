"""Customer balance transactions: manual adjustments and credit-note credits.

Stripe keeps ``customer.balance`` as the running sum (negative = credit the
customer holds) and records every change as a ``customer_balance_transaction``
with the ``ending_balance``. Invoices drawing on the balance are not recorded
here yet (they change ``balance`` directly, see invoices.new_invoice).
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..params import as_int, as_str, metadata
from ..routing import Request, route


def add_balance_txn(sim: Sim, cus: dict[str, Any], amount: int, currency: str, type_: str, *,
                    description: str | None = None, credit_note: str | None = None, invoice: str | None = None,
                    md: dict[str, Any] | None = None) -> dict[str, Any]:
    """Move ``customer.balance`` by ``amount`` and record it; ``customer.updated`` follows."""
    if cus.get("currency") and cus["currency"] != currency:
        raise errors.invalid(f"The customer's balance is in {cus['currency']}, not {currency}.", "currency")
    before = sim.render(cus)
    cus["balance"] = int(cus.get("balance") or 0) + amount
    cus["currency"] = cus.get("currency") or currency
    txn = sim.new("cbtxn", "customer_balance_transaction", sim.clock_of(cus), {
        "amount": amount, "checkout_session": None, "credit_note": credit_note, "currency": currency,
        "customer": cus["id"], "customer_account": None, "description": description,
        "ending_balance": cus["balance"], "invoice": invoice, "metadata": md or {}, "type": type_})
    sim.emit_updated("customer.updated", cus, before)
    return txn


def _customer(sim: Sim, cid: str) -> dict[str, Any]:
    cus = sim.store.get(cid, "customer")
    if cus.get("deleted"):
        raise errors.missing("customer", cid)
    return cus


@route("POST", "/v1/customers/{id}/balance_transactions")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    amount = as_int(p, "amount", required=True) or 0
    if amount == 0:
        raise errors.invalid("The amount must not be zero.", "amount")
    currency = (as_str(p, "currency", required=True) or "").lower()
    txn = add_balance_txn(sim, _customer(sim, req.args["id"]), amount, currency, "adjustment",
                          description=as_str(p, "description"), md=metadata(p))
    return sim.render(txn)


def _own(sim: Sim, req: Request) -> dict[str, Any]:
    txn = sim.store.get(req.args["txn"], "customer_balance_transaction")
    if txn["customer"] != req.args["id"]:
        raise errors.missing("customer balance transaction", req.args["txn"])
    return txn


@route("GET", "/v1/customers/{id}/balance_transactions/{txn}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(_own(sim, req))


@route("POST", "/v1/customers/{id}/balance_transactions/{txn}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    txn = _own(sim, req)
    if "description" in req.params:
        txn["description"] = as_str(req.params, "description")
    if "metadata" in req.params:
        txn["metadata"] = metadata(req.params, txn["metadata"])
    return sim.render(txn)


@route("GET", "/v1/customers/{id}/balance_transactions")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    cid = req.args["id"]
    _customer(sim, cid)
    inv = as_str(req.params, "invoice")
    return paginate(sim, req.params, "customer_balance_transaction", f"/v1/customers/{cid}/balance_transactions",
                    [lambda o: o["customer"] == cid, (lambda o: o["invoice"] == inv) if inv else None])


RENDERERS["customer_balance_transaction"] = lambda sim, o: dict(o)
