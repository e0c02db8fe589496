"""What a member's page shows, read in a handful of indexed queries (each by reader id):
subscriptions, payments with their refunds and disputes, receipts and every other notice
with its evidence (when it went, the Message-ID, the subject), newsletters, consents,
comps and the audit trail of what staff and the reader did to this record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from membership.billing.models import (
    ComplimentaryMembership,
    Dispute,
    Payment,
    Plan,
    PlanKind,
    Price,
    Refund,
    Subscription,
)
from membership.errors import NotFound
from membership.extensions import db
from membership.identity.models import Consent, Reader
from membership.mail.models import Notice
from membership.newsletters.models import Newsletter, NewsletterSubscription
from membership.staff.models import AuditLog

ROWS = 200  # per table: a member with more sees the newest (the page says so)


@dataclass
class PaymentRow:
    payment: Payment
    refunds: list[Refund] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    receipt: Notice | None = None

    @property
    def refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds if r.status not in ("failed", "canceled"))

    @property
    def refundable_minor(self) -> int:
        return max(self.payment.gross_minor - self.refunded_minor, 0)


@dataclass
class SubscriptionRow:
    subscription: Subscription
    plan_name: str


@dataclass
class MemberPage:
    reader: Reader
    subscriptions: list[SubscriptionRow]
    payments: list[PaymentRow]
    notices: list[Notice]
    newsletters: list[tuple[str, NewsletterSubscription]]
    consents: list[Consent]
    comps: list[tuple[ComplimentaryMembership, str]]
    audit: list[AuditLog]
    plans: list[Plan]


def reader_or_404(reader_id: int) -> Reader:
    reader = db.session.get(Reader, reader_id)
    if reader is None:
        raise NotFound(f"There is no reader {reader_id}.")
    return reader


def member_page(reader_id: int) -> MemberPage:
    reader = reader_or_404(reader_id)
    subs = db.session.execute(
        select(Subscription, Plan.name).outerjoin(Price, Price.id == Subscription.price_id)
        .outerjoin(Plan, Plan.id == Price.plan_id).where(Subscription.reader_id == reader_id)
        .order_by(Subscription.id.desc()).limit(ROWS)).all()
    notices = list(db.session.scalars(select(Notice).where(Notice.reader_id == reader_id)
                                      .order_by(Notice.id.desc()).limit(ROWS)))
    return MemberPage(
        reader=reader,
        subscriptions=[SubscriptionRow(s, name or s.stream.value.replace("_", " ")) for s, name in subs],
        payments=_payments(reader_id, notices),
        notices=notices,
        newsletters=[(name, sub) for sub, name in db.session.execute(
            select(NewsletterSubscription, Newsletter.name).join(Newsletter, Newsletter.id ==
                                                                 NewsletterSubscription.newsletter_id)
            .where(NewsletterSubscription.reader_id == reader_id).order_by(Newsletter.name)).all()],
        consents=list(db.session.scalars(select(Consent).where(Consent.reader_id == reader_id)
                                         .order_by(Consent.id.desc()).limit(ROWS))),
        comps=[(c, name) for c, name in db.session.execute(
            select(ComplimentaryMembership, Plan.name).join(Plan, Plan.id == ComplimentaryMembership.plan_id)
            .where(ComplimentaryMembership.reader_id == reader_id)
            .order_by(ComplimentaryMembership.id.desc())).all()],
        audit=_audit(reader_id),
        plans=list(db.session.scalars(select(Plan).where(Plan.active.is_(True), Plan.kind == PlanKind.MEMBERSHIP)
                                      .order_by(Plan.rank))),
    )


def _payments(reader_id: int, notices: list[Notice]) -> list[PaymentRow]:
    payments = list(db.session.scalars(select(Payment).where(Payment.reader_id == reader_id)
                                       .order_by(Payment.paid_at.desc()).limit(ROWS)))
    ids = [p.id for p in payments]
    refunds: dict[int, list[Refund]] = defaultdict(list)
    disputes: dict[int, list[Dispute]] = defaultdict(list)
    if ids:
        for r in db.session.scalars(select(Refund).where(Refund.payment_id.in_(ids)).order_by(Refund.id)):
            refunds[r.payment_id].append(r)
        for d in db.session.scalars(select(Dispute).where(Dispute.payment_id.in_(ids)).order_by(Dispute.id)):
            disputes[d.payment_id].append(d)
    receipts = {n.dedupe_key: n for n in notices if n.kind == "payment_receipt"}
    return [PaymentRow(p, refunds[p.id], disputes[p.id], receipts.get(p.stripe_charge_id)) for p in payments]


def _audit(reader_id: int) -> list[AuditLog]:
    """Entries naming this reader: console actions (target reader), comps (their ids) and
    the reader's own erasure."""
    comp_ids = [str(i) for i in db.session.scalars(
        select(ComplimentaryMembership.id).where(ComplimentaryMembership.reader_id == reader_id))]
    conditions = [and_(AuditLog.target_type == "reader", AuditLog.target_id == str(reader_id))]
    if comp_ids:
        conditions.append(and_(AuditLog.target_type == "complimentary_membership", AuditLog.target_id.in_(comp_ids)))
    return list(db.session.scalars(select(AuditLog).where(or_(*conditions)).order_by(AuditLog.id.desc()).limit(ROWS)))
