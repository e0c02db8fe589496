"""Customer tax ids through the SDK: create, retrieve, list, delete, events, frozen on invoices."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from .conftest import event_types, latest_event_id


def test_crud_and_events(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "vat@example.com"})
    since = latest_event_id(client)
    txi = client.v1.customers.tax_ids.create(cus.id, params={"type": "eu_vat", "value": "DE123456789"})
    assert (txi.country, txi.customer, txi.owner.customer, txi.verification.status) == ("DE", cus.id, cus.id, "pending")
    gb = client.v1.customers.tax_ids.create(cus.id, params={"type": "gb_vat", "value": "GB123456789"})
    assert [t.id for t in client.v1.customers.tax_ids.list(cus.id).data] == [gb.id, txi.id]
    assert client.v1.customers.tax_ids.retrieve(cus.id, txi.id).value == "DE123456789"
    inv = client.v1.invoices.create(params={"customer": cus.id})
    inv = client.v1.invoices.finalize_invoice(inv.id)
    assert [(t.type, t.value) for t in inv.customer_tax_ids] == [("eu_vat", "DE123456789"), ("gb_vat", "GB123456789")]
    gone = client.v1.customers.tax_ids.delete(cus.id, txi.id)
    assert gone.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.tax_ids.retrieve(cus.id, txi.id)
    assert [t.id for t in client.v1.customers.tax_ids.list(cus.id).data] == [gb.id]
    types = event_types(client, since)
    assert [t for t in types if t.startswith("customer.tax_id")] == [
        "customer.tax_id.created", "customer.tax_id.created", "customer.tax_id.deleted"]
    other = client.v1.customers.create(params={"email": "x@example.com"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.tax_ids.retrieve(other.id, gb.id)
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.customers.tax_ids.create(cus.id, params={"type": "eu_vat", "value": "!"})
    assert bad.value.param == "value"


def test_shapes_match_fixture(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    cus = client.v1.customers.create(params={"email": "vat@example.com"})
    txi = client.v1.customers.tax_ids.create(cus.id, params={"type": "eu_vat", "value": "DE123456789"})
    assert set(txi.to_dict()) == set(official_shapes["tax_id"])
    assert set(client.v1.customers.tax_ids.delete(cus.id, txi.id).to_dict()) == set(official_shapes["deleted_tax_id"])
