"""The site-facing API: entitlements by API key, the signed-in reader's entitlement
token, and the public keys (JWKS) that verify it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from membership.api import operation
from membership.errors import NotFound
from membership.identity.guard import READER, me
from membership.integrations import entitlements, tokens
from membership.integrations.api_auth import key_scopes, require_scope
from membership.integrations.schemas import EntitlementOut, EntitlementQuery, EntitlementTokenOut, JwksOut
from membership.integrations.scopes import ENTITLEMENTS_READ, MEMBERS_READ

api_bp = Blueprint("integrations_api", __name__, url_prefix="/api/v1")
session_bp = Blueprint("integrations_session", __name__, url_prefix="/api/session")
wellknown_bp = Blueprint("integrations_wellknown", __name__, url_prefix="/.well-known")
JWKS_MAX_AGE = 300  # seconds: a rotated-in key is seen within five minutes; old keys stay far longer


@operation(api_bp, "/entitlements", "GET", summary="Whether a reader is a member, the tier, until when, and why",
           tag="integrations", query=EntitlementQuery, response=EntitlementOut,
           security=require_scope(ENTITLEMENTS_READ), errors=(404, 422))
def get_entitlement(query: EntitlementQuery) -> EntitlementOut:
    """By `email` or `reader` (id). An unknown or erased address is not a member (200,
    `reader_id` null): the site asks about whoever signed in to it, who may never have
    given us anything. An unknown reader id is a 404: ids come from us."""
    if query.reader is not None:
        reader = entitlements.live_reader(query.reader)
        if reader is None:
            raise NotFound(f"no reader {query.reader}")
    else:
        reader = entitlements.reader_by_email(query.email or "")
        if reader is None:
            return EntitlementOut(member=False, tier=None, until=None, reason=None)
    verdict = entitlements.answer(reader.id)
    personal = MEMBERS_READ in key_scopes()
    return EntitlementOut(member=verdict.member, tier=verdict.tier, until=verdict.until, reason=verdict.reason,
                          reader_id=reader.id, email=reader.email if personal else None,
                          name=reader.name if personal else None)


@operation(session_bp, "/entitlement-token", "GET", summary="A short-lived signed token of the reader's membership",
           tag="integrations", response=EntitlementTokenOut, security=READER)
def entitlement_token() -> Response:
    """For pages cached at the edge: the site verifies this JWT with /.well-known/jwks.json
    instead of calling us on every page view. It lives `entitlement_token_minutes`
    (default 60, never over a day) and never past the membership's end."""
    token, verdict, expires = tokens.issue(me().id)
    base = current_app.config["SETTINGS"].public_url.rstrip("/")
    out = EntitlementTokenOut(token=token, expires_at=expires, member=verdict.member, tier=verdict.tier,
                              jwks_url=f"{base}/.well-known/jwks.json")
    response = jsonify(out.model_dump(mode="json"))
    response.headers["Cache-Control"] = "private, no-store"
    origin = request.headers.get("Origin", "")
    if origin and origin in current_app.config["SETTINGS"].embed_allowed_origins:
        response.headers.update({"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
                                 "Vary": "Origin"})
    return response


@operation(wellknown_bp, "/jwks.json", "GET", summary="Public keys that verify entitlement tokens",
           tag="integrations", response=JwksOut)
def jwks() -> Response:
    """Every key that signs now or signed a token that has not expired yet. Public and
    cacheable; any origin may read it (browsers verify tokens with it)."""
    tokens.current_signing_key()  # the first key exists before the first token, so sites can cache it early
    response = jsonify(tokens.jwks())
    response.headers.update({"Cache-Control": f"public, max-age={JWKS_MAX_AGE}", "Access-Control-Allow-Origin": "*"})
    return response
