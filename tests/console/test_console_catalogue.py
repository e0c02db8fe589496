"""Catalogue through the test client, against stripe_sim through the real SDK: who may
open it, tiers and prices from the mirror, promotion codes made and switched off at
Stripe, a tier's trial, and a price change from preview to the notices it schedules
(the same ones `flask mail price-change` records), refused when too soon."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.billing import price_change_apply
from membership.billing.catalog import sync_catalog
from membership.billing.gateway import stripe_client
from membership.billing.gateway.subscriptions import Move
from membership.billing.models import Plan, Price
from membership.db import utcnow
from membership.demo import seed_catalogue
from membership.enums import StaffRole, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice, NoticeStatus
from membership.staff.models import AuditLog
from tests.console.auth_support import csrf
from tests.console.helpers import reader_signed_in, sign_in_client, staff_user
from tests.factories.billing import SubscriptionFactory
from tests.support.promotions import intro_offers_retired_after

REQUEST_ID = re.compile(r'name="request_id" value="([^"]+)"')
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _intro_offers_switched_off_after(app: Flask, stripe_sim: Any) -> Iterator[None]:
    """The simulator outlives this test: its intro codes would show on later tests' /join."""
    with intro_offers_retired_after(app):
        yield


def _admin(client: FlaskClient) -> str:
    return sign_in_client(client, staff_user(StaffRole.ADMIN))


def _price(code: str = "member", currency: str = "USD", interval: str = "month") -> Price:
    return db.session.scalars(select(Price).join(Plan).where(
        Plan.code == code, Price.currency == currency, Price.interval == interval, Price.active)).one()


def _request_id(client: FlaskClient, path: str = "/staff/catalogue") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    found = REQUEST_ID.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


def _audited(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def _local_day(app: Flask, days: int) -> date:
    return (datetime.now(ZoneInfo(app.config["SETTINGS"].outlet_timezone)) + days * DAY).date()


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.EDITOR, StaffRole.SUPPORT])
def test_only_admins_open_or_change_the_catalogue(client: FlaskClient, role: StaffRole) -> None:
    seed_catalogue()
    db.session.commit()
    token = sign_in_client(client, staff_user(role))
    page = client.get("/staff/catalogue")
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "catalogue:read" in page.get_data(as_text=True) and "admin" in page.get_data(as_text=True)
    price = _price()
    for path in ("/staff/catalogue/sync", "/staff/catalogue/promotion-codes", f"/staff/catalogue/plans/{price.plan_id}/trial",
                 f"/staff/catalogue/prices/{price.id}/change"):
        assert client.post(path, data={"csrf_token": token, "trial_days": "5"}).status_code == 403, path
    assert client.get(f"/staff/catalogue/prices/{price.id}/change").status_code == 403
    assert _price().trial_days == 0
    assert 'href="/staff/catalogue"' not in client.get("/staff").get_data(as_text=True)


def test_a_readers_session_is_sent_to_the_staff_sign_in(client: FlaskClient) -> None:
    reader_signed_in(client, "reader-catalogue@example.org")
    resp = client.get("/staff/catalogue")
    assert resp.status_code == 303 and resp.headers["Location"] == "/staff/?next=/staff/catalogue"
    assert client.post("/staff/catalogue/sync", data={"csrf_token": csrf(client)}).status_code == 401


def test_sync_then_the_page_lists_tiers_and_prices_from_stripe(client: FlaskClient, stripe_sim: Any) -> None:
    seed_catalogue()
    db.session.commit()
    token = _admin(client)
    assert "not at Stripe yet" in client.get("/staff/catalogue").get_data(as_text=True)
    resp = client.post("/staff/catalogue/sync", data={"csrf_token": token})
    assert resp.status_code == 303
    html = client.get("/staff/catalogue").get_data(as_text=True)
    assert "Catalogue synced with Stripe: 4 product(s) and 8 price(s) created" in html
    assert "not at Stripe yet" not in html
    sdk = stripe_client()
    for code, cur, interval, shown in (("member", "USD", "month", "$10.00"), ("sustainer", "EUR", "year", "€220.00")):
        price = _price(code, cur, interval)
        remote = sdk.v1.prices.retrieve(str(price.stripe_price_id))
        assert (remote.unit_amount, remote.currency, remote.recurring.interval) == (price.amount_minor, cur.lower(),
                                                                                    interval)
        row = html[html.index(f'id="price-{price.id}"'):]
        row = row[:row.index("</tr>")]
        assert shown in row and str(price.stripe_price_id) in row and "on sale" in row
    assert "Sustaining member" in html and "reader chooses, from $5.00" in html
    [entry] = _audited("catalogue.sync")
    assert entry.details == {"products": 4, "prices": 8}
    assert [e.details["status"] for e in _audited("console.catalogue_sync")] == [303]


def test_create_and_switch_off_a_promotion_code_at_stripe(client: FlaskClient, stripe_sim: Any) -> None:
    seed_catalogue()
    db.session.commit()
    _admin(client)
    code = f"CAT-{utcnow():%H%M%S%f}"
    form = {"csrf_token": csrf(client), "request_id": _request_id(client), "code": code, "discount": "percent",
            "percent_off": "25", "duration": "repeating", "months": "3", "max_redemptions": "50",
            "expires": _local_day(client.application, 30).isoformat(), "intro": "member"}
    first = client.post("/staff/catalogue/promotion-codes", data=form)
    assert first.status_code == 303, first.get_data(as_text=True)
    again = client.post("/staff/catalogue/promotion-codes", data=form)  # a double click: the same keys
    assert again.status_code == 303, again.get_data(as_text=True)
    sdk = stripe_client()
    [promo] = sdk.v1.promotion_codes.list(params={"code": code, "expand": ["data.promotion.coupon"]}).data
    coupon = promo.promotion.coupon
    assert (promo.active, promo.max_redemptions, promo.metadata["intro"]) == (True, 50, "member")
    assert (coupon.percent_off, coupon.duration, coupon.duration_in_months) == (25, "repeating", 3)
    html = client.get("/staff/catalogue").get_data(as_text=True)
    row = html[html.index(f'id="code-{promo.id}"'):]
    row = row[:row.index("</tr>")]
    assert "25% off" in row and "3 months" in row and "0 of 50" in row and "active" in row
    tier = html[html.index(f'id="plan-{_price().plan_id}"'):]
    assert code in tier[:tier.index("</article>")]  # shown as the tier's intro offer

    off = client.post(f"/staff/catalogue/promotion-codes/{promo.id}/deactivate", data={"csrf_token": csrf(client)})
    assert off.status_code == 303
    assert sdk.v1.promotion_codes.retrieve(promo.id).active is False
    html = client.get("/staff/catalogue").get_data(as_text=True)
    row = html[html.index(f'id="code-{promo.id}"'):]
    assert "inactive" in row[:row.index("</tr>")]
    made = _audited("catalogue.promotion_code.create")  # both submits, naming the one code Stripe made
    assert {(m.target_id, m.details["code"], m.details["percent_off"]) for m in made} == {(promo.id, code, 25)}
    [gone] = _audited("catalogue.promotion_code.deactivate")
    assert gone.target_id == promo.id and gone.actor.startswith("admin-")
    assert len(_audited("console.catalogue_create_code")) == 2
    assert len(_audited("console.catalogue_deactivate_code")) == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"percent_off": "150"}, "at most 100"),
    ({"code": "no spaces allowed"}, "letters, digits or dashes"),
    ({"discount": "amount", "amount_off": "-2", "currency": "USD"}, "more than zero"),
    ({"duration": "repeating", "months": "0"}, "between 1 and 36"),
    ({"expires": "2001-01-01"}, "after today"),
    ({"intro": "member;drop"}, "from the list"),
    ({"request_id": ""}, "request id"),
])
def test_a_bad_promotion_code_form_is_refused_and_nothing_is_made(client: FlaskClient, stripe_sim: Any,
                                                                  change: dict[str, str], message: str) -> None:
    seed_catalogue()
    db.session.commit()
    _admin(client)
    code = f"BAD-{utcnow():%H%M%S%f}"
    form = {"csrf_token": csrf(client), "request_id": _request_id(client), "code": code, "discount": "percent",
            "percent_off": "10", "duration": "once", **change}
    resp = client.post("/staff/catalogue/promotion-codes", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html and 'role="alert"' in html
    assert stripe_client().v1.promotion_codes.list(params={"code": form["code"]}).data == [] or "code" in change
    assert _audited("catalogue.promotion_code.create") == []
    assert [e.details["status"] for e in _audited("console.catalogue_create_code")] == [422]


def test_switching_off_an_unknown_code_is_a_404(client: FlaskClient, stripe_sim: Any) -> None:
    token = _admin(client)
    assert client.post("/staff/catalogue/promotion-codes/promo_nothere1/deactivate",
                       data={"csrf_token": token}).status_code == 404
    assert client.post("/staff/catalogue/promotion-codes/x'--/deactivate", data={"csrf_token": token}).status_code == 404


def test_a_tiers_trial_is_what_checkout_reads(client: FlaskClient, stripe_sim: Any) -> None:
    seed_catalogue()
    db.session.commit()
    token = _admin(client)
    plan_id = _price().plan_id
    resp = client.post(f"/staff/catalogue/plans/{plan_id}/trial", data={"csrf_token": token, "trial_days": "14"})
    assert resp.status_code == 303
    prices = db.session.scalars(select(Price).where(Price.plan_id == plan_id)).all()
    assert {p.trial_days for p in prices} == {14}
    html = client.get("/staff/catalogue").get_data(as_text=True)
    assert "free trial" in html and "14 days" in html
    for bad in ("-1", "366", "two weeks"):
        refused = client.post(f"/staff/catalogue/plans/{plan_id}/trial", data={"csrf_token": token, "trial_days": bad})
        assert refused.status_code == 422, bad
    gift = db.session.scalars(select(Plan).where(Plan.code == "recurring-gift")).one()
    refused = client.post(f"/staff/catalogue/plans/{gift.id}/trial", data={"csrf_token": token, "trial_days": "7"})
    assert refused.status_code == 422 and "Only membership tiers" in refused.get_data(as_text=True)
    assert client.post("/staff/catalogue/plans/987654/trial", data={"csrf_token": token, "trial_days": "7"}
                       ).status_code == 404
    assert {p.trial_days for p in db.session.scalars(select(Price).where(Price.plan_id == plan_id))} == {14}
    [entry] = _audited("catalogue.trial.set")
    assert entry.details["trial_days"] == 14 and entry.details["before"] == [0]


def _subscribers(price: Price) -> list[Any]:
    told = [SubscriptionFactory(price_id=price.id, unit_amount_minor=1000, current_period_end=utcnow() + n * DAY)
            for n in (3, 12, 25)]
    SubscriptionFactory(price_id=price.id, cancel_at_period_end=True)  # not renewing: no notice
    SubscriptionFactory(price_id=price.id, status=SubscriptionStatus.CANCELED)
    SubscriptionFactory(price_id=_price("member", "EUR").id)  # another price
    db.session.commit()
    return told


def test_price_change_preview_confirm_and_the_notices_the_cli_would_record(
        client: FlaskClient, app: Flask, stripe_sim: Any) -> None:
    seed_catalogue()
    sync_catalog()
    db.session.commit()
    price = _price()
    told = _subscribers(price)
    _admin(client)
    day = _local_day(app, 40)
    effective = datetime.combine(day, time(0), tzinfo=ZoneInfo(app.config["SETTINGS"].outlet_timezone))
    url = f"/staff/catalogue/prices/{price.id}/change"

    form = client.get(url)
    assert form.status_code == 200 and "Earliest: " in form.get_data(as_text=True)
    preview = client.get(url, query_string={"amount": "12.00", "effective": day.isoformat()})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "<strong>3</strong> subscribers are told" in html and "$12.00" in html
    emails = {db.session.get_one(Reader, s.reader_id).email for s in told}
    listed = set(re.findall(r'<a href="/staff/members/\d+">([^<]+)</a>', html))
    assert listed == emails
    due = (effective - 21 * DAY).astimezone(UTC)
    assert html.count(f"<td>price change</td><td>{due:%d %b %Y %H:%M}</td>") == 3
    window = f"{(effective - 30 * DAY).astimezone(UTC):%d %b} – {(effective - 7 * DAY).astimezone(UTC):%d %b %Y}"
    assert html.count(window) == 3
    assert db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == "price_change")) == 0  # a preview only

    confirm = client.post(url, data={"csrf_token": csrf(client), "amount": "12.00", "effective": day.isoformat()})
    assert confirm.status_code == 303, confirm.get_data(as_text=True)
    done = client.get(confirm.headers["Location"]).get_data(as_text=True)
    assert "Price change scheduled" in done and "3 notice(s) scheduled" in done
    notices = db.session.scalars(select(Notice).where(Notice.kind == "price_change")).all()
    assert sorted(json.loads(n.context)["subscription_id"] for n in notices) == sorted(s.id for s in told)
    assert all(n.due_at == effective - 21 * DAY and n.window_closes_at == effective - 7 * DAY for n in notices)
    assert all(n.email in done for n in notices)
    # The CLI, run with the same change, finds every notice already recorded: the very same ones.
    cli = app.test_cli_runner().invoke(args=["mail", "price-change", str(price.id), "12.00", day.isoformat()])
    assert cli.exit_code == 0 and "0 price-change notices recorded" in cli.output, cli.output
    # The new price exists here (not on sale yet) and at Stripe; the old one is still sold.
    new = db.session.scalars(select(Price).where(Price.plan_id == price.plan_id, Price.amount_minor == 1200,
                                                 Price.currency == "USD")).one()
    assert new.active is False and _price().id == price.id
    remote = stripe_client().v1.prices.retrieve(str(new.stripe_price_id))
    assert (remote.unit_amount, remote.currency, remote.recurring.interval) == (1200, "usd", "month")
    [entry] = _audited("catalogue.price_change")
    assert entry.details["notices_created"] == 3 and entry.details["new_stripe_price_id"] == new.stripe_price_id
    again = client.post(url, data={"csrf_token": csrf(client), "amount": "12.00", "effective": day.isoformat()})
    assert again.status_code == 303  # a second confirm (a double click) schedules nothing more
    assert "already announced" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == "price_change")) == 3
    assert [e.details["status"] for e in _audited("console.catalogue_price_change_confirm")] == [303, 303]


def test_too_soon_is_a_400_naming_the_earliest_date_and_changes_nothing(
        client: FlaskClient, app: Flask, stripe_sim: Any) -> None:
    seed_catalogue()
    sync_catalog()
    db.session.commit()
    price = _price()
    _subscribers(price)
    _admin(client)
    url = f"/staff/catalogue/prices/{price.id}/change"
    prices_before = db.session.scalar(select(func.count(Price.id)))
    earliest = _local_day(app, 8)  # midnight of the day after now + 7 days, in the outlet's zone (always enough)
    soon = _local_day(app, 3)
    preview = client.get(url, query_string={"amount": "11.37", "effective": soon.isoformat()})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 400 and "at least 7 days" in text
    named = re.search(r"The earliest allowed date is [^(]+\((\d{4}-\d{2}-\d{2})\)", text)
    assert named and date.fromisoformat(named.group(1)) in (earliest - DAY, earliest)
    refused = client.post(url, data={"csrf_token": csrf(client), "amount": "11.37",
                                     "effective": soon.isoformat()})
    assert refused.status_code == 400 and "The earliest allowed date is" in refused.get_data(as_text=True)
    ok = client.get(url, query_string={"amount": "11.37", "effective": named.group(1)})
    assert ok.status_code == 200, ok.get_data(as_text=True)  # the date it names is indeed allowed
    assert db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == "price_change")) == 0
    assert db.session.scalar(select(func.count(Price.id))) == prices_before
    assert stripe_client().v1.prices.list(params={"lookup_keys": ["member:usd:month:1137"]}).data == []
    assert _audited("catalogue.price_change") == []
    assert [e.details["status"] for e in _audited("console.catalogue_price_change_confirm")] == [400]
    for bad in ({"amount": "10.00"}, {"amount": "ten"}, {"amount": "-1"}, {"effective": "next week"}):
        query = {"amount": "12.00", "effective": named.group(1), **bad}
        assert client.get(url, query_string=query).status_code == 422, bad
    assert client.get("/staff/catalogue/prices/987654/change").status_code == 404
    pwyw = db.session.scalars(select(Price).join(Plan).where(Plan.code == "recurring-gift")).first()
    assert pwyw is not None and client.get(f"/staff/catalogue/prices/{pwyw.id}/change").status_code == 422


def _section(client: FlaskClient) -> str:
    html = client.get("/staff/catalogue").get_data(as_text=True)
    return html[html.index('id="price-changes"'):html.index('id="codes"')]


def test_price_changes_section_shows_each_change_its_state_and_counts(
        client: FlaskClient, app: Flask, stripe_sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_catalogue()
    sync_catalog()
    db.session.commit()
    price = _price()
    told = _subscribers(price)
    token = _admin(client)
    assert "No price change has been announced." in _section(client)
    day = _local_day(app, 40)
    effective = datetime.combine(day, time(0), tzinfo=ZoneInfo(app.config["SETTINGS"].outlet_timezone))
    url = f"/staff/catalogue/prices/{price.id}/change"
    assert client.post(url, data={"csrf_token": token, "amount": "12.00", "effective": day.isoformat()}
                       ).status_code == 303

    # A second change of the same tier, currency and interval while this one is pending: 409, nothing made.
    later = (day + 10 * DAY).isoformat()
    for resp in (client.get(url, query_string={"amount": "13.00", "effective": later}),
                 client.post(url, data={"csrf_token": token, "amount": "13.00", "effective": later})):
        text = resp.get_data(as_text=True)
        assert resp.status_code == 409 and f"already pending: $10.00 becomes $12.00 on {effective:%d %B %Y}" in text
    assert db.session.scalar(select(func.count(Notice.id)).where(Notice.dedupe_key.like("%:1300"))) == 0
    assert db.session.scalar(select(func.count(Price.id)).where(Price.amount_minor == 1300)) == 0

    # Two notices went out in time, one failed.
    by_sub = {n.dedupe_key.split(":")[0]: n for n in db.session.scalars(select(Notice).where(
        Notice.kind == "price_change"))}
    sent, refused = told[:2], told[2]
    for sub in sent:
        by_sub[sub.stripe_subscription_id].status = NoticeStatus.SENT
        by_sub[sub.stripe_subscription_id].sent_at = utcnow()
    by_sub[refused.stripe_subscription_id].status = NoticeStatus.FAILED
    by_sub[refused.stripe_subscription_id].last_error = "550 5.1.1 no such user"
    db.session.commit()
    section = _section(client)
    assert ">Member<" in section and "$10.00 → $12.00" in section and f"{effective:%d %b %Y}" in section
    assert ">announced<" in section and "2 sent, 0 pending, 1 failed" in section

    # The day's sweep (the command): the two told move at Stripe, the refused one is held.
    # Stand-in for the Stripe call, and why: these subscribers are local factory rows with no
    # subscription in stripe_sim, and this test is about what the page reports. The real move
    # through stripe_sim, its webhook and the renewal charge are driven in
    # tests/billing/test_price_change_apply.py.
    moves: list[str] = []
    monkeypatch.setattr(price_change_apply, "move_to_price", lambda sid, *a, **k: moves.append(sid) or Move.MOVED)
    monkeypatch.setattr(price_change_apply, "utcnow", lambda: effective + timedelta(hours=1))
    ran = app.test_cli_runner().invoke(args=["mail", "apply-price-changes"])
    assert ran.exit_code == 0 and "held 1" in ran.output, ran.output
    assert sorted(moves) == sorted(s.stripe_subscription_id for s in sent)
    new = db.session.scalars(select(Price).where(Price.plan_id == price.plan_id, Price.amount_minor == 1200,
                                                 Price.currency == "USD")).one()
    for sub in sent:  # what the customer.subscription.updated webhook writes
        db.session.get_one(type(sub), sub.id).price_id = new.id
    db.session.commit()
    section = _section(client)
    row = section[section.index("<tbody>"):section.index('class="held"')]
    assert ">partly held<" in row and '<td class="num">2</td><td class="num">1</td>' in row
    held = section[section.index('class="held"'):]
    reader = db.session.get_one(Reader, refused.reader_id)
    assert f'<a href="/staff/members/{reader.id}">{reader.email}</a>' in held
    assert "notice failed: 550 5.1.1 no such user" in held
    assert _price().id == new.id  # the new price is the one on sale
