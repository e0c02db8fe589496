"""Billing portal configurations: what a customer may do in the hosted portal.

A configuration switches portal features on or off (cancel, plan switch, card
update, invoice history) and sets their behaviour (cancel at period end or
immediately, the proration of a switch). The account always has a default one,
made on first use like the one Stripe keeps from the Dashboard settings;
sessions without ``configuration`` use it. pages.py asks :func:`feature` before
running a portal action, so a disabled feature answers 403 like a portal that
does not offer it.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim
from ..listing import paginate
from ..params import as_bool, as_dict, as_str, metadata
from ..routing import Request, route


def _features(enabled: bool) -> dict[str, Any]:
    return {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": enabled},
        "payment_method_update": {"enabled": enabled, "payment_method_configuration": None},
        "subscription_cancel": {"cancellation_reason": {"enabled": False, "options": []}, "enabled": enabled,
                                "mode": "at_period_end", "proration_behavior": "none"},
        "subscription_update": {"billing_cycle_anchor": None, "default_allowed_updates": ["price"] if enabled else [],
                                "enabled": enabled, "proration_behavior": "none" if enabled else "create_prorations",
                                "schedule_at_period_end": {"conditions": []}, "trial_update_behavior": "end_trial"},
    }


_BOOLS = {"enabled", "adjustable_quantity"}
_CHOICES = {
    ("subscription_cancel", "mode"): ("at_period_end", "immediately"),
    ("subscription_cancel", "proration_behavior"): ("always_invoice", "create_prorations", "none"),
    ("subscription_update", "proration_behavior"): ("always_invoice", "create_prorations", "none"),
}


def _merge(into: dict[str, Any], given: dict[str, Any], path: str) -> None:
    """Apply ``features[...]`` params onto the stored features, coercing booleans, checking enums."""
    for key, val in given.items():
        name = f"{path}[{key}]"
        if isinstance(val, dict) and isinstance(into.get(key), dict):
            _merge(into[key], val, name)
            continue
        if key in _BOOLS:
            val = bool(as_bool({key: val}, key))
        choices = _CHOICES.get((path.split("[")[-1].rstrip("]"), key))
        if choices and val not in choices:
            raise errors.invalid(f"Invalid {name}: must be one of {', '.join(choices)}", name)
        if key == "products":  # kept internally: Stripe renders it only when expanded
            continue
        into[key] = val if val != "" else ([] if isinstance(into.get(key), list) else None)


def _apply(sim: Sim, cfg: dict[str, Any], p: dict[str, Any]) -> None:
    if "business_profile" in p:
        bp = as_dict(p, "business_profile")
        cfg["business_profile"] = dict(cfg["business_profile"],
                                       **{k: (v or None) for k, v in bp.items()})
    if "default_return_url" in p:
        cfg["default_return_url"] = as_str(p, "default_return_url")
    if "features" in p:
        _merge(cfg["features"], as_dict(p, "features"), "features")
        products = ((as_dict(p, "features").get("subscription_update") or {}).get("products"))
        if isinstance(products, list):
            sim.store.m(cfg["id"])["products"] = products
    if "login_page" in p:
        enabled = bool(as_bool(as_dict(p, "login_page"), "enabled", False))
        cfg["login_page"] = {"enabled": enabled, "url": f"{sim.url}/portal/login/{cfg['id']}" if enabled else None}
    if "metadata" in p:
        cfg["metadata"] = metadata(p, cfg["metadata"] or {})
    if "name" in p:
        cfg["name"] = as_str(p, "name")
    if "active" in p:
        if cfg["is_default"] and not as_bool(p, "active"):
            raise errors.invalid("The default configuration cannot be deactivated.", "active")
        cfg["active"] = bool(as_bool(p, "active"))


def _new(sim: Sim, is_default: bool) -> dict[str, Any]:
    now = sim.now()
    cfg = sim.new("bpc", "billing_portal.configuration", None, {
        "active": True, "application": None,
        "business_profile": {"headline": None, "privacy_policy_url": None, "terms_of_service_url": None},
        "default_return_url": None, "features": _features(is_default), "is_default": is_default,
        "login_page": {"enabled": False, "url": None}, "metadata": {}, "name": None, "updated": now})
    return cfg


def default_config(sim: Sim) -> dict[str, Any]:
    """The account's default configuration (every feature on, like a freshly set-up portal)."""
    for cfg in sim.store.iter_newest("billing_portal.configuration", lambda c: c["is_default"]):
        return cfg
    return _new(sim, True)


def for_session(sim: Sim, ref: str | None) -> dict[str, Any]:
    if not ref:
        return default_config(sim)
    cfg = sim.store.get(ref, "billing_portal.configuration", "configuration")
    if not cfg["active"]:
        raise errors.invalid(f"The configuration {ref} is not active.", "configuration")
    return cfg


def feature(sim: Sim, cfg_id: str, name: str) -> dict[str, Any]:
    """The settings of one portal feature; 403 when the configuration turns it off."""
    cfg = sim.store.find(cfg_id) or default_config(sim)
    feat: dict[str, Any] = copy.deepcopy(cfg["features"][name])
    if not feat.get("enabled"):
        raise errors.StripeError(403, "invalid_request_error", f"This portal does not offer {name.replace('_', ' ')}.")
    return feat


@route("POST", "/v1/billing_portal/configurations")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    if not as_dict(req.params, "features"):
        raise errors.invalid("Missing required param: features.", "features")
    cfg = _new(sim, False)
    _apply(sim, cfg, req.params)
    sim.emit("billing_portal.configuration.created", cfg)
    return sim.render(cfg)


@route("GET", "/v1/billing_portal/configurations/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "billing_portal.configuration"))


@route("POST", "/v1/billing_portal/configurations/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    cfg = sim.store.get(req.args["id"], "billing_portal.configuration")
    before = sim.render(cfg)
    _apply(sim, cfg, req.params)
    if sim.render(cfg) != before:
        cfg["updated"] = sim.now()
    sim.emit_updated("billing_portal.configuration.updated", cfg, before)
    return sim.render(cfg)


@route("GET", "/v1/billing_portal/configurations")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    active, is_default = as_bool(p, "active"), as_bool(p, "is_default")
    return paginate(sim, p, "billing_portal.configuration", "/v1/billing_portal/configurations", [
        (lambda o: o["active"] == active) if active is not None else None,
        (lambda o: o["is_default"] == is_default) if is_default is not None else None,
    ])


RENDERERS["billing_portal.configuration"] = lambda sim, o: copy.deepcopy(o)
