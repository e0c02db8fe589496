"""Tax rates through the SDK: CRUD, events, and their arithmetic on invoice lines."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from .conftest import event_types, latest_event_id


def _rate(client: stripe.StripeClient, pct: float, inclusive: bool, name: str = "VAT") -> Any:
    return client.v1.tax_rates.create(params={"display_name": name, "percentage": pct, "inclusive": inclusive,
                                              "country": "DE", "jurisdiction": "DE"})


def test_create_update_list(client: stripe.StripeClient) -> None:
    since = latest_event_id(client)
    vat = _rate(client, 19, False)
    assert (vat.percentage, vat.inclusive, vat.active, vat.id[:4]) == (19, False, True, "txr_")
    incl = _rate(client, 7.5, True, "Reduced")
    vat = client.v1.tax_rates.update(vat.id, params={"active": False, "description": "old"})
    assert (vat.active, vat.description) == (False, "old")
    assert [r.id for r in client.v1.tax_rates.list(params={"active": True}).data] == [incl.id]
    assert client.v1.tax_rates.retrieve(incl.id).percentage == 7.5
    assert event_types(client, since) == ["tax_rate.created", "tax_rate.created", "tax_rate.updated"]
    cus = client.v1.customers.create(params={"email": "t@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as archived:
        client.v1.invoices.create(params={"customer": cus.id, "default_tax_rates": [vat.id]})
    assert archived.value.param == "default_tax_rates[0]"


def test_exclusive_and_inclusive_on_an_invoice(client: stripe.StripeClient) -> None:
    vat = _rate(client, 19, False)
    incl = _rate(client, 10, True, "Included")
    cus = client.v1.customers.create(params={"email": "t@example.com"})
    inv = client.v1.invoices.create(params={"customer": cus.id, "default_tax_rates": [vat.id]})
    assert [r.id for r in inv.default_tax_rates] == [vat.id]
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 1000, "currency": "usd"})
    own = client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 1100,
                                                 "currency": "usd", "tax_rates": [incl.id]})
    assert own.tax_rates[0].id == incl.id
    inv = client.v1.invoices.retrieve(inv.id)
    # 1000 + 19% on top; 1100 already includes 10% (100)
    assert (inv.subtotal, inv.subtotal_excluding_tax, inv.total, inv.total_excluding_tax) == (2100, 2000, 2290, 2000)
    taxes = {t.tax_rate_details.tax_rate: (t.amount, t.tax_behavior, t.taxable_amount) for t in inv.total_taxes}
    assert taxes == {vat.id: (190, "exclusive", 1000), incl.id: (100, "inclusive", 1000)}
    by_amount = {ln.amount: [t.amount for t in ln.taxes] for ln in inv.lines.data}
    assert by_amount == {1000: [190], 1100: [100]}
    assert client.v1.invoices.finalize_invoice(inv.id).amount_due == 2290


def test_shape_matches_fixture(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    assert set(_rate(client, 19, False).to_dict()) == set(official_shapes["tax_rate"])
