"""Staff API (bearer token): complimentary memberships and gift memberships (admin role).

Both staff security schemes live here; other domains' staff operations (the webhook
inbox: billing/staff_views.py) use them."""

from __future__ import annotations

from flask import Blueprint

from membership.api import operation, register_security
from membership.extensions import db
from membership.staff import comps
from membership.staff.auth import current_staff, require_admin, require_staff
from membership.staff.schemas import CompIn, CompOut, CompsOut, CompsQuery, GiftOut, GiftsOut, GiftsQuery

bp = Blueprint("staff_api", __name__, url_prefix="/api/staff")
STAFF = "staffBearer"
register_security(STAFF, {"type": "http", "scheme": "bearer", "description": "A staff API token (admin role)."},
                  require_admin)
STAFF_ANY_ROLE = "staffBearerAnyRole"
register_security(STAFF_ANY_ROLE, {"type": "http", "scheme": "bearer",
                                   "description": "A staff API token (any role: admin, finance, ...)."},
                  require_staff)


@operation(bp, "/comps", "POST", summary="Grant a complimentary membership", tag="staff", body=CompIn,
           response=CompOut, status=201, security=STAFF)
def grant(body: CompIn) -> CompOut:
    comp = comps.grant_comp(current_staff(), body.reader_id, body.plan, body.expires_at, body.reason)
    db.session.commit()
    return CompOut.model_validate(comp, from_attributes=True)


@operation(bp, "/comps", "GET", summary="Complimentary memberships", tag="staff", query=CompsQuery,
           response=CompsOut, security=STAFF)
def list_comps(query: CompsQuery) -> CompsOut:
    return CompsOut(comps=[CompOut.model_validate(c, from_attributes=True) for c in comps.list_comps(query.reader_id)])


@operation(bp, "/comps/<int:comp_id>/revoke", "POST", summary="Revoke a complimentary membership now",
           tag="staff", response=CompOut, security=STAFF, errors=(409,))
def revoke(comp_id: int) -> CompOut:
    comp = comps.revoke_comp(current_staff(), comp_id)
    db.session.commit()
    return CompOut.model_validate(comp, from_attributes=True)


@operation(bp, "/gifts", "GET", summary="Gift memberships (codes are never shown)", tag="staff",
           query=GiftsQuery, response=GiftsOut, security=STAFF)
def list_gifts(query: GiftsQuery) -> GiftsOut:
    return GiftsOut(gifts=[GiftOut.model_validate(g, from_attributes=True) for g in comps.list_gifts(query.status)])
