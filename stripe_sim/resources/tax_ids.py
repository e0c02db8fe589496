"""Customer tax ids (``/v1/customers/{id}/tax_ids``).

Verification is what Stripe test mode does for most types: ``pending`` at
creation. Only a light format check is made (a value of letters and digits);
Stripe's per-type validation lists are out of scope. Finalized invoices copy
the customer's ids into ``customer_tax_ids`` (invoices.finalize hook), as
Stripe freezes them on the invoice then.
"""

from __future__ import annotations

import re
from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..params import as_str
from ..routing import Request, route
from . import invoices as inv_mod

_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{1,40}$")
# Country of a type where it names one (``eu_vat`` takes it from the value's prefix).
_COUNTRY = {"au_abn": "AU", "br_cnpj": "BR", "ca_bn": "CA", "ch_vat": "CH", "gb_vat": "GB", "in_gst": "IN",
            "jp_cn": "JP", "no_vat": "NO", "nz_gst": "NZ", "us_ein": "US", "za_vat": "ZA"}


def _customer(sim: Sim, cid: str) -> dict[str, Any]:
    cus = sim.store.get(cid, "customer")
    if cus.get("deleted"):
        raise errors.missing("customer", cid)
    return cus


def _own(sim: Sim, req: Request) -> dict[str, Any]:
    txi = sim.store.get(req.args["txi"], "tax_id")
    if txi["customer"] != req.args["id"] or txi.get("deleted"):
        raise errors.missing("tax_id", req.args["txi"])
    return txi


@route("POST", "/v1/customers/{id}/tax_ids")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    cus = _customer(sim, req.args["id"])
    p = req.params
    type_ = as_str(p, "type", required=True) or ""
    if not re.fullmatch(r"[a-z]{2}_[a-z]{2,6}", type_):
        raise errors.invalid(f"Invalid value for type: {type_}", "type")
    value = as_str(p, "value", required=True) or ""
    if not _VALUE.match(value):
        raise errors.invalid(f"Invalid value for {type_}.", "value", code="tax_id_invalid")
    country = value[:2].upper() if type_ == "eu_vat" else _COUNTRY.get(type_, type_[:2].upper())
    if type_ == "eu_vat" and country == "EL":
        country = "GR"
    txi = sim.new("txi", "tax_id", sim.clock_of(cus), {
        "country": country, "customer": cus["id"], "customer_account": None,
        "owner": {"customer": cus["id"], "customer_account": None, "type": "customer"}, "type": type_,
        "value": value, "verification": {"status": "pending", "verified_address": None, "verified_name": None}})
    txi.pop("metadata")
    sim.emit("customer.tax_id.created", txi)
    return sim.render(txi)


@route("GET", "/v1/customers/{id}/tax_ids/{txi}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(_own(sim, req))


@route("DELETE", "/v1/customers/{id}/tax_ids/{txi}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    txi = _own(sim, req)
    sim.emit("customer.tax_id.deleted", txi)
    txi["deleted"] = True
    return {"id": txi["id"], "object": "tax_id", "deleted": True}


@route("GET", "/v1/customers/{id}/tax_ids")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    cid = req.args["id"]
    _customer(sim, cid)
    return paginate(sim, req.params, "tax_id", f"/v1/customers/{cid}/tax_ids", [lambda o: o["customer"] == cid])


RENDERERS["tax_id"] = lambda sim, o: dict(o)


def _freeze_on_invoice(sim: Sim, inv: dict[str, Any]) -> None:
    ids = sim.store.iter_newest("tax_id", lambda o: o["customer"] == inv["customer"])
    inv["customer_tax_ids"] = [{"type": t["type"], "value": t["value"]} for t in reversed(list(ids))]


inv_mod.BEFORE_FINALIZE.append(_freeze_on_invoice)
