"""HTTP for the staff's comps and gifts: grant and revoke complimentary memberships, list
them and the gift memberships (codes never shown). Billing owns comps (they make members,
like subscriptions do); the staff package only authenticates and audits."""

from __future__ import annotations

from flask import Blueprint

from membership.api import operation
from membership.billing import comps
from membership.billing.comp_schemas import CompIn, CompOut, CompsOut, CompsQuery, GiftOut, GiftsOut, GiftsQuery
from membership.extensions import db
from membership.staff.auth import current_staff, require_permission

bp = Blueprint("comps_api", __name__, url_prefix="/api/staff")


@operation(bp, "/comps", "POST", summary="Grant a complimentary membership", tag="staff", body=CompIn,
           response=CompOut, status=201, security=require_permission("comps:write"))
def grant(body: CompIn) -> CompOut:
    comp = comps.grant_comp(current_staff(), body.reader_id, body.plan, body.expires_at, body.reason)
    db.session.flush()  # the operation commits once it returns
    return CompOut.model_validate(comp, from_attributes=True)


@operation(bp, "/comps", "GET", summary="Complimentary memberships", tag="staff", query=CompsQuery,
           response=CompsOut, security=require_permission("members:read"))
def list_comps(query: CompsQuery) -> CompsOut:
    return CompsOut(comps=[CompOut.model_validate(c, from_attributes=True) for c in comps.list_comps(query.reader_id)])


@operation(bp, "/comps/<int:comp_id>/revoke", "POST", summary="Revoke a complimentary membership now",
           tag="staff", response=CompOut, security=require_permission("comps:write"), errors=(409,))
def revoke(comp_id: int) -> CompOut:
    comp = comps.revoke_comp(current_staff(), comp_id)
    db.session.flush()  # the operation commits once it returns
    return CompOut.model_validate(comp, from_attributes=True)


@operation(bp, "/gifts", "GET", summary="Gift memberships (codes are never shown)", tag="staff",
           query=GiftsQuery, response=GiftsOut, security=require_permission("members:read"))
def list_gifts(query: GiftsQuery) -> GiftsOut:
    return GiftsOut(gifts=[GiftOut.model_validate(g, from_attributes=True) for g in comps.list_gifts(query.status)])
