"""Webhook endpoints. The secret is returned only by create, as Stripe does."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import API_VERSION, Sim
from ..listing import paginate
from ..params import as_bool, as_list, as_str, metadata
from ..routing import Request, route
from ..webhooks import is_loopback_url


def matching(sim: Sim, event_type: str) -> list[dict[str, Any]]:
    return [ep for ep in sim.store.iter_newest("webhook_endpoint")
            if ep["status"] == "enabled" and ("*" in ep["enabled_events"] or event_type in ep["enabled_events"])]


def create_endpoint(sim: Sim, p: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    url = as_str(p, "url", required=True) or ""
    if not is_loopback_url(url):
        raise errors.invalid("stripe_sim delivers webhooks to loopback URLs only (127.0.0.1, localhost).", "url")
    events = as_list(p, "enabled_events")
    if not events:
        raise errors.invalid("Missing required param: enabled_events.", "enabled_events")
    secret = secret or sim.config.webhook_secret or sim.store.secret("whsec")
    ep = sim.new("we", "webhook_endpoint", None, {
        "api_version": as_str(p, "api_version") or API_VERSION, "application": None,
        "description": as_str(p, "description"), "enabled_events": events, "metadata": metadata(p),
        "status": "enabled", "url": url}, secret=secret)
    return ep


@route("POST", "/v1/webhook_endpoints")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    ep = create_endpoint(sim, req.params)
    out = sim.render(ep)
    out["secret"] = sim.store.m(ep["id"])["secret"]
    return out


@route("GET", "/v1/webhook_endpoints/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "webhook_endpoint"))


@route("POST", "/v1/webhook_endpoints/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    ep = sim.store.get(req.args["id"], "webhook_endpoint")
    p = req.params
    if "url" in p:
        if not is_loopback_url(p["url"]):
            raise errors.invalid("stripe_sim delivers webhooks to loopback URLs only.", "url")
        ep["url"] = p["url"]
    if "enabled_events" in p:
        ep["enabled_events"] = as_list(p, "enabled_events")
    if "disabled" in p:
        ep["status"] = "disabled" if as_bool(p, "disabled") else "enabled"
    if "description" in p:
        ep["description"] = p["description"] or None
    if "metadata" in p:
        ep["metadata"] = metadata(p, ep["metadata"])
    return sim.render(ep)


@route("DELETE", "/v1/webhook_endpoints/{id}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    ep = sim.store.get(req.args["id"], "webhook_endpoint")
    ep["deleted"] = True
    ep["status"] = "disabled"
    return {"id": ep["id"], "object": "webhook_endpoint", "deleted": True}


@route("GET", "/v1/webhook_endpoints")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    return paginate(sim, req.params, "webhook_endpoint", "/v1/webhook_endpoints")
