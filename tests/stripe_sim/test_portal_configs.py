"""Billing portal configurations through the SDK, and the hosted portal honouring them."""

from __future__ import annotations

from typing import Any

import requests
import stripe

from stripe_sim import SimServer

from .conftest import event_types, latest_event_id, monthly_price


def _subscribed(client: stripe.StripeClient) -> tuple[Any, Any]:
    price = monthly_price(client, 1000)
    cus = client.v1.customers.create(params={"email": "portal@example.com"})
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_visa"})
    return cus, sub


def test_create_update_list(client: stripe.StripeClient) -> None:
    since = latest_event_id(client)
    cfg = client.v1.billing_portal.configurations.create(params={
        "features": {"subscription_cancel": {"enabled": True, "mode": "immediately"},
                     "invoice_history": {"enabled": True}},
        "business_profile": {"headline": "Members"}, "name": "strict"})
    assert (cfg.is_default, cfg.active, cfg.name, cfg.business_profile.headline) == (False, True, "strict", "Members")
    assert (cfg.features.subscription_cancel.mode, cfg.features.subscription_update.enabled) == ("immediately", False)
    cfg = client.v1.billing_portal.configurations.update(cfg.id, params={
        "features": {"payment_method_update": {"enabled": True}}, "metadata": {"k": "v"}})
    assert cfg.features.payment_method_update.enabled is True and cfg.features.subscription_cancel.enabled is True
    assert [c.id for c in client.v1.billing_portal.configurations.list(params={"is_default": False}).data] == [cfg.id]
    assert client.v1.billing_portal.configurations.retrieve(cfg.id).metadata["k"] == "v"
    assert event_types(client, since) == ["billing_portal.configuration.created",
                                          "billing_portal.configuration.updated"]


def test_portal_follows_its_configuration(sim: SimServer, client: stripe.StripeClient,
                                          http: requests.Session) -> None:
    cus, sub = _subscribed(client)
    cfg = client.v1.billing_portal.configurations.create(params={
        "features": {"subscription_cancel": {"enabled": True, "mode": "immediately"}}})
    bps = client.v1.billing_portal.sessions.create(params={"customer": cus.id, "configuration": cfg.id})
    assert bps.configuration == cfg.id
    other = monthly_price(client, 2000, name="Gold")
    denied = http.post(f"{bps.url}/switch", data={"subscription": sub.id, "price": other.id}, allow_redirects=False)
    assert denied.status_code == 403
    done = http.post(f"{bps.url}/cancel", data={"subscription": sub.id}, allow_redirects=False)
    assert done.status_code == 303
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"  # immediately, not at period end


def test_default_configuration_is_used(client: stripe.StripeClient) -> None:
    cus, _sub = _subscribed(client)
    bps = client.v1.billing_portal.sessions.create(params={"customer": cus.id})
    default = client.v1.billing_portal.configurations.retrieve(bps.configuration)
    assert default.is_default is True and default.features.subscription_update.enabled is True


def test_shape_matches_fixture(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    cfg = client.v1.billing_portal.configurations.create(params={"features": {"invoice_history": {"enabled": True}}})
    assert set(cfg.to_dict()) == set(official_shapes["billing_portal.configuration"])
    assert set(cfg.features.to_dict()) == set(official_shapes["billing_portal.configuration"]["features"])
