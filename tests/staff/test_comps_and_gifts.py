"""Staff comps (bearer token, admin role) and gift memberships bought, fulfilled and redeemed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.billing.entitlement import entitlement
from membership.billing.events import StripeEvent
from membership.billing.handlers.gifts import on_gift_paid
from membership.billing.models import GiftMembership
from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.secrets import reveal
from membership.staff.models import AuditLog
from membership.staff.services import create_staff_user
from tests.readers.helpers import new_client, pay_checkout, sign_up_and_confirm


def _token(role: StaffRole) -> dict[str, str]:
    _user, token = create_staff_user(f"{role.value}-{utcnow().timestamp()}@newsroom.org", role)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_comp_grant_entitles_until_expiry_and_revoke_ends_it(rclient: Any, app: Flask) -> None:
    reader_id = sign_up_and_confirm(rclient)["reader_id"]
    admin = _token(StaffRole.ADMIN)
    staff = app.test_client()
    expires = (utcnow() + timedelta(days=30)).isoformat()
    res = staff.post("/api/staff/comps", headers=admin,
                     json={"reader_id": reader_id, "plan": "member", "expires_at": expires, "reason": "press"})
    assert res.status_code == 201, res.get_json()
    comp_id = res.get_json()["id"]
    ent = entitlement(reader_id)
    assert ent.active and ent.source == "comp"
    assert not entitlement(reader_id, at=utcnow() + timedelta(days=31)).active
    assert rclient.get("/api/me").get_json()["membership"]["source"] == "comp"
    listed = staff.get(f"/api/staff/comps?reader_id={reader_id}", headers=admin).get_json()["comps"]
    assert [c["id"] for c in listed] == [comp_id]
    assert staff.post(f"/api/staff/comps/{comp_id}/revoke", headers=admin).status_code == 200
    assert not entitlement(reader_id).active
    assert staff.post(f"/api/staff/comps/{comp_id}/revoke", headers=admin).status_code == 409
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.target_id == str(comp_id),
                                                          AuditLog.target_type == "complimentary_membership")).all()
    assert sorted(actions) == ["comp.grant", "comp.revoke"]


def test_staff_auth_and_bad_comps(rclient: Any, app: Flask) -> None:
    reader_id = sign_up_and_confirm(rclient)["reader_id"]
    staff = app.test_client()
    body = {"reader_id": reader_id, "plan": "member", "expires_at": (utcnow() + timedelta(days=3)).isoformat()}
    assert staff.post("/api/staff/comps", json=body).status_code == 401
    assert staff.post("/api/staff/comps", json=body, headers={"Authorization": "Bearer stf_nope"}).status_code == 401
    assert staff.post("/api/staff/comps", json=body, headers=_token(StaffRole.FINANCE)).status_code == 403
    # a reader's session is not a staff credential
    assert rclient.post("/api/staff/comps", json=body).status_code == 401
    admin = _token(StaffRole.ADMIN)
    for bad, pointer in (({**body, "expires_at": (utcnow() - timedelta(days=1)).isoformat()}, "/expires_at"),
                         ({**body, "expires_at": (utcnow() + timedelta(days=4000)).isoformat()}, "/expires_at"),
                         ({**body, "plan": "one-time-gift"}, "/plan"), ({**body, "reader_id": 2**40}, "/reader_id"),
                         ({**body, "reader_id": "1"}, "/reader_id"), ({**body, "extra": 1}, "/extra")):
        res = staff.post("/api/staff/comps", json=bad, headers=admin)
        assert res.status_code == 422 and res.get_json()["errors"][0]["pointer"] == pointer, (bad, res.get_json())
    assert not entitlement(reader_id).active


def _completed_event(stripe: Any, session_id: str) -> StripeEvent:
    for event in stripe.v1.events.list(params={"type": "checkout.session.completed", "limit": 100}).data:
        if event.data.object.id == session_id:
            return StripeEvent.from_payload(event.to_dict(recursive=True))
    raise AssertionError("no checkout.session.completed for " + session_id)


def test_gift_membership_bought_fulfilled_once_and_redeemed_once(member_client: Any, app: Flask, stripe: Any) -> None:
    body = {"plan": "member", "currency": "USD",
            "gift": {"recipient_email": "friend@news-reader.org", "recipient_name": "Sam", "months": 12}}
    out = pay_checkout(member_client, body)
    assert out["amount_minor"] == 10000 and out["mode"] == "payment"  # the yearly price
    gift = db.session.scalar(select(GiftMembership).where(
        GiftMembership.stripe_checkout_session_id == out["stripe_session_id"]))
    assert gift is not None and gift.status == "pending_payment"
    event = _completed_event(stripe, out["stripe_session_id"])
    on_gift_paid(event)
    on_gift_paid(event)  # redelivery: nothing new
    db.session.commit()
    notices = list(db.session.scalars(select(Notice).where(Notice.kind == "gift_delivered")))
    assert len(notices) == 1 and notices[0].dedupe_key == f"gift:{gift.id}"
    code = reveal(notices[0].context, "code")
    db.session.refresh(gift)
    assert gift.status == "paid" and code not in gift.code_hash
    assert member_client.post("/api/gifts/redeem", json={"code": code}).status_code == 410  # not your own
    friend = new_client(app)
    friend_id = sign_up_and_confirm(friend)["reader_id"]
    res = friend.post("/api/gifts/redeem", json={"code": code.lower().replace("-", " ")})
    assert res.status_code == 200, res.get_json()
    ent = entitlement(friend_id)
    assert ent.active and ent.source == "gift" and ent.until is not None
    assert ent.until - utcnow() > timedelta(days=359)
    third = new_client(app)
    sign_up_and_confirm(third)
    assert third.post("/api/gifts/redeem", json={"code": code}).status_code == 410
    listed = app.test_client().get("/api/staff/gifts?status=redeemed", headers=_token(StaffRole.ADMIN))
    assert [g["id"] for g in listed.get_json()["gifts"]] == [gift.id] and code not in listed.text
