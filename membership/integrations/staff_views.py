"""Staff API for the integrations (admins only): API keys, the signing key, outbound
webhook endpoints, their delivery log and replay. The console (a later issue) uses it.

Every write is audited twice over: the staff hook's entry (who, which route, status)
and the service's own entry (what changed: a key's scopes, an endpoint's events)."""

from __future__ import annotations

from flask import Blueprint

from membership.api import operation
from membership.errors import NotFound
from membership.extensions import db
from membership.integrations import apikeys, endpoints, tokens
from membership.integrations.models import ApiKey, OutboundEndpoint, SigningKey
from membership.integrations.outbox import EVENT_TYPES
from membership.integrations.staff_schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeysOut,
    AttemptOut,
    AttemptsOut,
    AttemptsQuery,
    DeliveriesOut,
    DeliveriesQuery,
    DeliveryOut,
    EndpointCreatedOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointsOut,
    ReplayedOut,
    RotatedOut,
    SigningKeyOut,
)
from membership.staff.auth import current_staff, require_permission

bp = Blueprint("integrations_staff_api", __name__, url_prefix="/api/staff/integrations")
READ = "integrations:read"
WRITE = "integrations:write"


def _key_out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(row, from_attributes=True)


def _endpoint_out(row: OutboundEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(row, from_attributes=True)


def _signing_out(row: SigningKey) -> SigningKeyOut:
    return SigningKeyOut.model_validate(row, from_attributes=True)


@operation(bp, "/api-keys", "GET", summary="Server-to-server API keys", tag="integrations", response=ApiKeysOut,
           security=require_permission(READ))
def list_api_keys() -> ApiKeysOut:
    return ApiKeysOut(keys=[_key_out(k) for k in apikeys.list_keys()])


@operation(bp, "/api-keys", "POST", summary="Create an API key (shown once)", tag="integrations", body=ApiKeyIn,
           response=ApiKeyCreatedOut, status=201, security=require_permission(WRITE), errors=(409, 422))
def create_api_key(body: ApiKeyIn) -> ApiKeyCreatedOut:
    row, key = apikeys.create_key(body.name, body.scopes, current_staff().email)
    return ApiKeyCreatedOut(**_key_out(row).model_dump(), key=key)


@operation(bp, "/api-keys/<int:key_id>/revoke", "POST", summary="Revoke an API key now", tag="integrations",
           response=ApiKeyOut, security=require_permission(WRITE), errors=(404,))
def revoke_api_key(key_id: int) -> ApiKeyOut:
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}")
    return _key_out(apikeys.revoke_key(row.name, current_staff().email))


@operation(bp, "/signing-keys", "GET", summary="Token-signing keys still published in the JWKS",
           tag="integrations", response=RotatedOut, security=require_permission(READ))
def list_signing_keys() -> RotatedOut:
    current = tokens.current_signing_key()
    return RotatedOut(current=_signing_out(current),
                      retired=[k.kid for k in tokens.published_keys() if k.retired_at is not None])


@operation(bp, "/signing-keys/rotate", "POST", summary="Rotate the token-signing key", tag="integrations",
           response=RotatedOut, security=require_permission(WRITE))
def rotate_signing_key() -> RotatedOut:
    """The new key signs from now on; the old one stays in the JWKS until its tokens expire."""
    fresh, retired = tokens.rotate(current_staff().email)
    return RotatedOut(current=_signing_out(fresh), retired=retired)


@operation(bp, "/webhook-endpoints", "GET", summary="Outbound webhook endpoints", tag="integrations",
           response=EndpointsOut, security=require_permission(READ))
def list_endpoints() -> EndpointsOut:
    return EndpointsOut(endpoints=[_endpoint_out(e) for e in endpoints.list_endpoints()], event_types=EVENT_TYPES)


@operation(bp, "/webhook-endpoints", "POST", summary="Add an outbound webhook endpoint (secret shown once)",
           tag="integrations", body=EndpointIn, response=EndpointCreatedOut, status=201,
           security=require_permission(WRITE), errors=(422,))
def add_endpoint(body: EndpointIn) -> EndpointCreatedOut:
    row, secret = endpoints.add_endpoint(body.url, body.events, current_staff().email, body.scopes, body.description)
    return EndpointCreatedOut(**_endpoint_out(row).model_dump(), secret=secret)


@operation(bp, "/webhook-endpoints/<int:endpoint_id>", "GET", summary="One outbound webhook endpoint",
           tag="integrations", response=EndpointOut, security=require_permission(READ), errors=(404,))
def get_endpoint(endpoint_id: int) -> EndpointOut:
    return _endpoint_out(endpoints.get_endpoint(endpoint_id))


@operation(bp, "/webhook-endpoints/<int:endpoint_id>", "PATCH", summary="Change, disable or enable an endpoint",
           tag="integrations", body=EndpointPatch, response=EndpointOut, security=require_permission(WRITE),
           errors=(404, 422))
def update_endpoint(endpoint_id: int, body: EndpointPatch) -> EndpointOut:
    """Enabling a disabled endpoint resets its failure count and sends what waited."""
    row = endpoints.update_endpoint(endpoint_id, current_staff().email, url=body.url, types=body.events,
                                    scopes=body.scopes, enabled=body.enabled)
    return _endpoint_out(row)


@operation(bp, "/webhook-endpoints/<int:endpoint_id>/deliveries", "GET", summary="Deliveries to one endpoint",
           tag="integrations", query=DeliveriesQuery, response=DeliveriesOut, security=require_permission(READ),
           errors=(404,))
def list_deliveries(endpoint_id: int, query: DeliveriesQuery) -> DeliveriesOut:
    rows = endpoints.deliveries(endpoint_id, query.status, query.before_id, query.limit)
    return DeliveriesOut(deliveries=[DeliveryOut.model_validate(r, from_attributes=True) for r in rows])


@operation(bp, "/webhook-endpoints/<int:endpoint_id>/attempts", "GET",
           summary="The delivery log: every try and the receiver's status code", tag="integrations",
           query=AttemptsQuery, response=AttemptsOut, security=require_permission(READ), errors=(404,))
def list_attempts(endpoint_id: int, query: AttemptsQuery) -> AttemptsOut:
    rows = endpoints.attempts(endpoint_id, query.before_id, query.limit)
    return AttemptsOut(attempts=[AttemptOut.model_validate(r, from_attributes=True) for r in rows])


@operation(bp, "/webhook-endpoints/<int:endpoint_id>/deliveries/<int:delivery_id>/replay", "POST",
           summary="Send one delivery again now", tag="integrations", response=DeliveryOut,
           security=require_permission(WRITE), errors=(404, 409))
def replay_delivery(endpoint_id: int, delivery_id: int) -> DeliveryOut:
    row = endpoints.replay(endpoint_id, delivery_id, current_staff().email)
    return DeliveryOut.model_validate(row, from_attributes=True)


@operation(bp, "/webhook-endpoints/<int:endpoint_id>/replay-failed", "POST",
           summary="Send every given-up delivery of an endpoint again", tag="integrations", response=ReplayedOut,
           security=require_permission(WRITE), errors=(404,))
def replay_failed(endpoint_id: int) -> ReplayedOut:
    return ReplayedOut(replayed=endpoints.replay_failed(endpoint_id, current_staff().email))
