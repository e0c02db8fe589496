"""An announced price change applied on its day, against stripe_sim through the real SDK.

Readers subscribe on a sim test clock; the change is announced (`price_changes.announce`)
and its notices go through the real send path into the SMTP sink (one address refuses
them); on the date the sweep moves only the told subscribers at Stripe, holds and
reports the rest, puts the new price on sale; a second run makes no second Stripe
update; the renewal then charges the new amount once and the webhook records the MRR
expansion.
"""

from __future__ import annotations

import ast
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.billing import price_change_apply, price_changes
from membership.billing.catalog import ensure_price
from membership.billing.gateway import idempotency_key, stripe_client
from membership.billing.gateway.subscriptions import Move, move_to_price
from membership.billing.models import Price, Subscription, SubscriptionEvent
from membership.billing.price_change_apply import apply_due
from membership.enums import MrrMovement
from membership.errors import Conflict
from membership.extensions import db
from membership.mail.models import BounceEvent, Notice, NoticeStatus
from membership.mail.notices import record_notice
from membership.mail.sending import Outcome, send_notice
from membership.staff.models import AuditLog
from tests.factories.billing import PlanFactory, PriceFactory, SubscriptionFactory
from workers.tasks.billing import apply_price_changes

from .webhook_support import deliver_and_process, latest_event_id, make_reader, sim_customer, sim_events_since

DAY = 86400


@pytest.fixture
def update_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every subscription update the SDK sends (any caller), by subscription id."""
    calls: list[str] = []
    service = type(stripe_client().v1.subscriptions)
    original: Callable[..., Any] = service.update

    def spy(self: Any, subscription: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(subscription)
        return original(self, subscription, *args, **kwargs)

    monkeypatch.setattr(service, "update", spy)
    return calls


def _price(amount: int = 1000) -> Price:
    plan = PlanFactory(code=f"pc-{uuid.uuid4().hex[:8]}")
    price = PriceFactory(plan_id=plan.id, amount_minor=amount)
    ensure_price(price)
    db.session.commit()
    return price


class Outlet:
    """Readers on one sim test clock; each step feeds the sim's events through the inbox."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.sdk = stripe_client()
        self.t0 = int(time.time())
        self.clock = self.sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": self.t0})
        self.customers: set[str] = set()
        self.marker = latest_event_id()

    def subscribe(self, price: Price, email: str) -> str:
        customer = sim_customer(make_reader(email), clock=self.clock.id)
        self.customers.add(customer.id)
        sub = self.sdk.v1.subscriptions.create(params={"customer": customer.id,
                                                       "items": [{"price": str(price.stripe_price_id)}]})
        return str(sub.id)

    def at(self, days: float) -> datetime:
        return datetime.fromtimestamp(self.t0 + int(days * DAY), tz=UTC)

    def advance(self, days: float) -> None:
        self.sdk.v1.test_helpers.test_clocks.advance(self.clock.id, params={"frozen_time": self.t0 + int(days * DAY)})

    def sync(self) -> list[dict[str, Any]]:
        events = sim_events_since(self.marker, self.customers)
        self.marker = latest_event_id()
        deliver_and_process(self.client, events)
        return events

    def stripe_price(self, sub_id: str) -> str:
        return str(self.sdk.v1.subscriptions.retrieve(sub_id)["items"].data[0].price.id)


def _row(stripe_id: str) -> Subscription:
    sub = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == stripe_id)).one()
    db.session.refresh(sub)
    return sub


def _audited(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_told_subscribers_move_on_the_day_once_and_renew_at_the_new_amount(
        client: FlaskClient, app: Flask, stripe_sim: Any, mailbox: Any, update_calls: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    old = _price(1000)
    outlet = Outlet(client)
    told = [outlet.subscribe(old, f"told{i}-{uuid.uuid4().hex[:6]}@example.org") for i in (1, 2)]
    refused_email = f"gone-{uuid.uuid4().hex[:6]}@example.org"
    refused = outlet.subscribe(old, refused_email)
    leaving = outlet.subscribe(old, f"leaving-{uuid.uuid4().hex[:6]}@example.org")
    outlet.sync()
    assert {_row(s).price_id for s in (*told, refused, leaving)} == {old.id}

    effective = outlet.at(10)
    announced = price_changes.announce(old.id, 1200, effective)
    db.session.commit()
    new = announced.new_price
    assert announced.created == 4 and new.active is False and new.stripe_price_id
    late_joiner = outlet.subscribe(old, f"late-{uuid.uuid4().hex[:6]}@example.org")  # after the announcement
    outlet.sync()

    # The notices go out through the real sender; one address refuses them (550).
    mailbox.fail_rcpt[refused_email] = "550 5.1.1 no such user"
    notices = db.session.scalars(select(Notice).where(Notice.kind == "price_change")).all()
    outcomes = {n.email: send_notice(n.id, app.config["SETTINGS"]) for n in notices}
    assert sorted(outcomes.values()) == sorted([Outcome.SENT] * 3 + [Outcome.FAILED])
    assert len(mailbox.messages) == 3
    # One told reader cancels afterwards: skipped, not moved.
    outlet.sdk.v1.subscriptions.update(leaving, params={"cancel_at_period_end": True})
    outlet.sync()
    update_calls.clear()

    # Before the day nothing is due; on it a dry run says what would happen and changes nothing.
    assert apply_due(outlet.at(9.9)).changes == []
    outlet.advance(10.01)
    now = effective + timedelta(hours=1)
    dry = apply_due(now, dry_run=True)
    [run] = dry.changes
    assert set(run.moved) == set(told) and run.on_sale_now and run.new is not None and run.new.id == new.id
    assert {h.subscription for h in run.held} == {refused, late_joiner}
    assert update_calls == [] and all(outlet.stripe_price(s) == old.stripe_price_id for s in told)
    db.session.refresh(new)
    assert new.active is False and _audited("price_change.on_sale") == [] and _audited("price_change.held") == []
    monkeypatch.setattr(price_change_apply, "utcnow", lambda: now)
    printed = app.test_cli_runner().invoke(args=["mail", "apply-price-changes", "--dry-run"])
    assert printed.exit_code == 0, printed.output
    assert all(f"would move {s}" in printed.output for s in told)
    assert f"held {refused}" in printed.output and "notice failed" in printed.output
    assert f"held {late_joiner}" in printed.output and "no notice of this change" in printed.output
    assert update_calls == []

    # The sweep: the told move (no proration), the rest stay and are reported once.
    summary = apply_due(now)
    db.session.commit()
    [run] = summary.changes
    assert set(run.moved) == set(told) and run.already == [] and run.errors == {} and run.skipped == {}
    assert sorted(update_calls) == sorted(told)
    assert all(outlet.stripe_price(s) == new.stripe_price_id for s in told)
    assert all(outlet.stripe_price(s) == old.stripe_price_id for s in (refused, leaving, late_joiner))
    reasons = {h.subscription: h.reason for h in run.held}
    assert set(reasons) == {refused, late_joiner} and reasons[refused].startswith("notice failed: ")
    held = _audited("price_change.held")
    assert {e.details["subscription"] for e in held} == {refused, late_joiner}
    assert all(e.actor == "billing" and e.target_type == "reader" for e in held)
    db.session.refresh(new)
    db.session.refresh(old)
    assert new.active is True and old.active is False
    [sale] = _audited("price_change.on_sale")
    assert sale.details["on_sale"] == new.id
    # Local rows are the webhook's to write: still the old price until it comes.
    assert all(_row(s).price_id == old.id for s in told)

    # A second run before the webhook: Stripe already shows the new price, so no update.
    update_calls.clear()
    again = apply_due(now)
    db.session.commit()
    assert update_calls == [] and set(again.changes[0].already) == set(told) and again.changes[0].moved == []
    assert again.changes[0].on_sale_now is False and len(_audited("price_change.held")) == 2
    key = idempotency_key("price_change", told[0], new.stripe_price_id)
    assert move_to_price(told[0], str(old.stripe_price_id), str(new.stripe_price_id), idempotency_key=key,
                         metadata={"price_change": run.change.key}) is Move.ALREADY
    assert update_calls == []

    # The webhook syncs the move: MRR expansion now; a third run has nothing left to move.
    outlet.sync()
    for s in told:
        row = _row(s)
        assert (row.price_id, row.unit_amount_minor, row.mrr_minor) == (new.id, 1200, 1200)
        kinds = db.session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.subscription_id == row.id)
                                   .order_by(SubscriptionEvent.id)).all()
        assert [(e.kind, e.mrr_delta_minor) for e in kinds] == [(MrrMovement.NEW, 1000), (MrrMovement.EXPANSION, 200)]
    third = apply_due(now)
    assert third.changes[0].moved == third.changes[0].already == [] and third.changes[0].held_count == 2
    assert update_calls == []

    # The renewal charges the new amount exactly once; the others renew at the old one.
    period_end = int(_row(told[0]).current_period_end.timestamp())  # type: ignore[union-attr]
    outlet.advance((period_end - outlet.t0) / DAY + 0.1)
    outlet.sync()
    for s, amount in ((told[0], 1200), (told[1], 1200), (refused, 1000), (late_joiner, 1000)):
        invoices = outlet.sdk.v1.invoices.list(params={"subscription": s, "limit": 10}).data
        charged = sorted((i.billing_reason, i.amount_paid) for i in invoices)
        assert charged == sorted([("subscription_create", 1000), ("subscription_cycle", amount)]), (s, charged)
    for s in told:
        kinds = db.session.scalars(select(SubscriptionEvent.kind).where(
            SubscriptionEvent.subscription_id == _row(s).id)).all()
        assert kinds == [MrrMovement.NEW, MrrMovement.EXPANSION]  # the renewal moves no MRR


def test_held_reasons_late_and_bounced_notices_and_the_task(app: Flask, db_session: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """No Stripe here: a dry run reads only, and every subscriber below is held."""
    old = PriceFactory(amount_minor=1000)
    successor = PriceFactory(plan_id=old.plan_id, amount_minor=1300, active=False,
                             stripe_price_id=f"price_{uuid.uuid4().hex[:10]}")  # so nothing asks Stripe
    effective = datetime(2031, 3, 1, tzinfo=UTC)
    change = price_change_apply.Change(effective, old.id, 1300)
    subs = {name: SubscriptionFactory(price_id=old.id) for name in ("late", "bounced", "pending", "suppressed")}
    for name, sub in subs.items():
        email = f"{name}@example.org"
        notice, _ = record_notice("price_change", f"{sub.stripe_subscription_id}:{change.key}", email,
                                  {"subscription_id": sub.id, "price_id": old.id, "new_amount_minor": 1300,
                                   "effective_at": int(effective.timestamp())}, reader_id=sub.reader_id,
                                  due_at=effective - timedelta(days=21),
                                  window_closes_at=effective - timedelta(days=7))
        sent = {"late": effective - timedelta(days=3), "bounced": effective - timedelta(days=21)}.get(name)
        if sent is not None:
            notice.status, notice.sent_at = NoticeStatus.SENT, sent
        if name == "suppressed":
            notice.status, notice.last_error = NoticeStatus.SUPPRESSED, "address suppressed"
    db_session.add(BounceEvent(email="bounced@example.org", kind="hard_bounce",
                               reported_at=effective - timedelta(days=20)))
    db_session.commit()

    [run] = apply_due(effective + timedelta(minutes=5), dry_run=True).changes
    assert run.new is not None and run.new.id == successor.id and run.moved == []
    reasons = {h.subscription: h.reason for h in run.held}
    assert reasons[subs["late"].stripe_subscription_id].startswith("notice sent late")
    assert reasons[subs["bounced"].stripe_subscription_id] == "the address bounced after the notice was sent"
    assert reasons[subs["pending"].stripe_subscription_id] == "notice pending"
    assert reasons[subs["suppressed"].stripe_subscription_id] == "notice suppressed: address suppressed"
    assert apply_due(effective - timedelta(minutes=5), dry_run=True).changes == []  # not yet
    assert apply_due(effective + timedelta(days=31), dry_run=True).changes == []  # past the look-back

    # The beat task: the held are audited once, the new price goes on sale, nothing else.
    monkeypatch.setattr(price_change_apply, "utcnow", lambda: effective + timedelta(minutes=5))
    assert apply_price_changes.run() == {"changes": 1, "on_sale": 1, "moved": 0, "already": 0, "skipped": 0,
                                         "errors": 0, "held": 4}
    assert apply_price_changes.run()["on_sale"] == 0
    assert len(_audited("price_change.held")) == 4
    db_session.refresh(successor)
    assert successor.active is True


def test_a_price_change_notice_past_its_window_is_not_sent(app: Flask, db_session: Any) -> None:
    """The sweep will keep this subscriber on the old price, so the mail would be untrue."""
    sub = SubscriptionFactory(price_id=PriceFactory().id)
    now = datetime.now(UTC)
    notice, _ = record_notice("price_change", f"{sub.stripe_subscription_id}:late", "late@example.org",
                              {"subscription_id": sub.id, "price_id": sub.price_id, "new_amount_minor": 1300,
                               "effective_at": int((now + timedelta(days=5)).timestamp())},
                              reader_id=sub.reader_id, due_at=now - timedelta(days=16),
                              window_closes_at=now - timedelta(days=2))
    db_session.commit()
    assert send_notice(notice.id, app.config["SETTINGS"]) is Outcome.SUPPRESSED
    db_session.refresh(notice)
    assert notice.last_error == "no longer applies: too late: the change will not apply to this subscription"


def test_the_beat_runs_the_sweep_hourly() -> None:
    # the beat module builds the worker app at import, so read its schedule as source
    source = (Path(__file__).resolve().parents[2] / "workers" / "beat.py").read_text()
    names = {node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)}
    assert apply_price_changes.name == "workers.tasks.billing.apply_price_changes" in names
    assert "billing-apply-price-changes" in names


def _recorded(price: Price, sub: Subscription, effective: datetime, amount: int) -> price_change_apply.Change:
    """A change's notice written straight, as rows from before one pending change per
    plan, currency and interval was enforced would be (announce now refuses this)."""
    change = price_change_apply.Change(effective, price.id, amount)
    record_notice("price_change", f"{sub.stripe_subscription_id}:{change.key}", f"r{sub.id}@example.org",
                  {"subscription_id": sub.id, "price_id": price.id, "new_amount_minor": amount,
                   "effective_at": int(effective.timestamp())}, reader_id=sub.reader_id,
                  due_at=effective - timedelta(days=21), window_closes_at=effective - timedelta(days=7))
    return change


def _on_sale(plan_id: int) -> list[int]:
    return sorted(db.session.scalars(select(Price.id).where(Price.plan_id == plan_id, Price.currency == "USD",
                                                            Price.active)))


def test_a_plan_changed_twice_keeps_only_the_latest_price_on_sale_and_a_catch_up_sells_nothing_old(
        app: Flask, db_session: Any) -> None:
    """No Stripe here: the successors carry Stripe ids already and every reader is held."""
    fake = lambda: f"price_{uuid.uuid4().hex[:10]}"  # noqa: E731
    old = PriceFactory(amount_minor=1000, stripe_price_id=fake())
    first = PriceFactory(plan_id=old.plan_id, amount_minor=1200, active=False, stripe_price_id=fake())
    second = PriceFactory(plan_id=old.plan_id, amount_minor=1400, active=False, stripe_price_id=fake())
    euro = PriceFactory(plan_id=old.plan_id, currency="EUR", amount_minor=900, stripe_price_id=fake())
    sub = SubscriptionFactory(price_id=old.id)
    d1 = datetime(2031, 3, 1, tzinfo=UTC)
    d2 = d1 + timedelta(days=20)
    _recorded(old, sub, d1, 1200)
    _recorded(old, sub, d2, 1400)
    db_session.commit()

    apply_due(d1 + timedelta(minutes=5))
    db_session.commit()
    assert _on_sale(old.plan_id) == [first.id]
    [run] = apply_due(d2 + timedelta(minutes=5)).changes[1:]
    db_session.commit()
    assert run.on_sale_now and _on_sale(old.plan_id) == [second.id]  # the first successor went off sale too
    db_session.refresh(euro)
    assert euro.active is True  # another currency is another sale
    sales = _audited("price_change.on_sale")
    assert [s.details["on_sale"] for s in sales] == [first.id, second.id]
    assert sales[1].details["also_off_sale"] == [first.id] and sales[1].details["off_sale"] == old.id

    # The reader held on 10.00 gets a change of their own later: they move, but 12.00 is not sold again.
    d3 = d2 + timedelta(days=20)
    announced = price_changes.announce(old.id, 1200, d3, now=d2 + timedelta(days=1))
    db_session.commit()
    assert announced.new_price.id == first.id and announced.created == 1
    [run] = [r for r in apply_due(d3 + timedelta(minutes=5)).changes if r.change.effective_at == d3]
    db_session.commit()
    assert run.on_sale_now is False and _on_sale(old.plan_id) == [second.id]
    catch_up = _audited("price_change.on_sale")[-1]
    assert catch_up.details["catch_up"] is True and catch_up.details["on_sale"] is None


def test_a_second_change_while_one_is_pending_is_refused_naming_it(app: Flask, db_session: Any) -> None:
    old = PriceFactory(amount_minor=1000, stripe_price_id=f"price_{uuid.uuid4().hex[:10]}")
    for amount in (1200, 1300):  # successors with Stripe ids already: nothing asks Stripe
        PriceFactory(plan_id=old.plan_id, amount_minor=amount, active=False,
                     stripe_price_id=f"price_{uuid.uuid4().hex[:10]}")
    SubscriptionFactory(price_id=old.id)
    now = datetime(2031, 1, 1, tzinfo=UTC)
    d1 = now + timedelta(days=30)
    assert price_changes.announce(old.id, 1200, d1, now=now).created == 1
    db_session.commit()
    assert price_changes.announce(old.id, 1200, d1, now=now).created == 0  # the same change again: fine
    for amount, when in ((1300, d1 + timedelta(days=10)), (1300, d1), (1200, d1 + timedelta(days=1))):
        with pytest.raises(Conflict) as refused:
            price_changes.announce(old.id, amount, when, now=now)
        assert refused.value.status == 409
        assert "already pending: $10.00 becomes $12.00 on " + f"{d1:%d %B %Y}" in refused.value.detail
    db_session.rollback()
    assert {n.dedupe_key.rsplit(":", 1)[1] for n in db_session.scalars(select(Notice))} == {"1200"}
    # Once it applied, the next change of the tier may be announced.
    apply_due(d1 + timedelta(minutes=5))
    db_session.commit()
    assert price_changes.announce(old.id, 1300, d1 + timedelta(days=30), now=d1 + timedelta(days=1)).created == 1
