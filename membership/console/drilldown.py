"""Drill-downs: the readers behind a dashboard figure, each linked to their member page.

- MRR movements of a month (one kind, or "churn" for both churn kinds): the MRR
  roll-forward's own drill-down (reports/mrr_rollforward.movements); per kind and
  currency they sum to the figure.
- Net sales of a month and stream: each money event (charge, refund, dispute, ...)
  posted to that accounting month, with its signed gross (clearing + fee, as the cash
  summary counts it), so the list sums to the cell.
- Donors of a period by kind (new, retained, reactivated, lapsed, all): readers and
  what they gave, from the donors report's own definition of a gift, so each list's
  length is the report's count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template, request
from sqlalchemy import and_, case, func, select

from membership.console import dashboard_data as data
from membership.console.blueprint import bp
from membership.console.dashboard_filters import BadFilter, parse_month
from membership.console.dashboard_guard import staff_page
from membership.console.dashboard_worklist import member_link
from membership.enums import MrrMovement, Stream
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.journal import next_month
from membership.ledger.models import JournalTransaction, LedgerEntry
from membership.money import format_money
from membership.reports import cash, donors, mrr_rollforward
from membership.reports.periods import day_start

LIMIT = 1000
CHURN = "churn"
DONOR_KINDS = ("donors", "new", "retained", "reactivated", "lapsed")


@dataclass(frozen=True)
class Line:
    """One row of a drill-down list."""

    when: str
    reader_id: int | None
    email: str
    what: str
    amount_minor: int
    currency: str

    @property
    def href(self) -> str | None:
        return member_link(self.reader_id)

    @property
    def amount(self) -> str:
        return format_money(self.amount_minor, self.currency)


def movement_lines(month: date, kind: str, currency: str | None) -> list[Line]:
    kinds = [MrrMovement.CHURN_VOLUNTARY, MrrMovement.CHURN_DELINQUENT] if kind == CHURN else [_movement(kind)]
    lines = [m for k in kinds for m in mrr_rollforward.movements(Stream.MEMBERSHIP, month, next_month(month), k,
                                                                  currency, LIMIT + 1)]
    lines.sort(key=lambda m: (m.occurred_at, m.subscription_id))
    return [Line(m.occurred_at.strftime("%Y-%m-%d %H:%M"), m.reader_id, m.email, m.kind.replace("_", " "),
                 m.mrr_delta_minor, m.currency) for m in lines]


def _movement(kind: str) -> MrrMovement:
    try:
        return MrrMovement(kind)
    except ValueError:
        raise BadFilter(f"Unknown movement {kind[:30]!r}.") from None


def money_event_lines(month: date, stream: str, currency: str | None) -> list[Line]:
    """The month's money events of one stream (and currency), signed as Stripe signs them."""
    t, e = JournalTransaction, LedgerEntry
    stream_is = e.stream.is_(None) if stream == cash.UNATTRIBUTED else e.stream == _stream(stream)
    query = (select(t.occurred_at, t.kind, t.reader_id, Reader.email, t.memo, e.currency, func.sum(e.amount_minor))
             .join(e, e.transaction_id == t.id).outerjoin(Reader, Reader.id == t.reader_id)
             .where(t.period == month, t.kind.in_(cash.KINDS), e.account.in_(cash.CASH_ACCOUNTS), stream_is,
                    *([e.currency == currency] if currency else []))
             .group_by(t.id, t.occurred_at, t.kind, t.reader_id, Reader.email, t.memo, e.currency)
             .order_by(t.occurred_at, t.id).limit(LIMIT + 1))
    return [Line(at.strftime("%Y-%m-%d %H:%M"), reader_id, email or "(no reader)", memo, int(gross), cur)
            for at, _kind, reader_id, email, memo, cur, gross in db.session.execute(query)]


def _stream(value: str) -> Stream:
    try:
        return Stream(value)
    except ValueError:
        raise BadFilter(f"Unknown stream {value[:30]!r}.") from None


def donor_lines(start: date, end: date, kind: str, currency: str | None) -> list[Line]:
    """Readers of one donor kind in [start, end) against the months before it; the amount
    is what they gave in the period (in the previous one, for lapsed donors).

    The gifts are the donors report's own (`donors._gifts`: refunds and lost disputes
    taken out the same way), so a list's length is always the report's count."""
    if kind not in DONOR_KINDS:
        raise BadFilter(f"Unknown donor group {kind[:30]!r}; one of {', '.join(DONOR_KINDS)}.")
    previous_at, start_at = day_start(donors.previous_period(start, end)[0]), day_start(start)
    g = donors._gifts(day_start(end)).subquery()
    now, prev = g.c.paid_at >= start_at, and_(g.c.paid_at >= previous_at, g.c.paid_at < start_at)
    flags = (select(g.c.currency, g.c.reader_id, func.max(case((now, 1), else_=0)).label("now"),
                    func.max(case((prev, 1), else_=0)).label("prev"),
                    func.max(case((g.c.paid_at < previous_at, 1), else_=0)).label("earlier"),
                    func.sum(case((now, g.c.amount), else_=0)).label("given"),
                    func.sum(case((prev, g.c.amount), else_=0)).label("before"))
             .where(*([g.c.currency == currency] if currency else [])).group_by(g.c.currency, g.c.reader_id)
             .subquery())
    r = flags.c
    wanted = {"donors": r.now == 1, "new": and_(r.now == 1, r.prev == 0, r.earlier == 0),
              "retained": and_(r.now == 1, r.prev == 1), "reactivated": and_(r.now == 1, r.prev == 0, r.earlier == 1),
              "lapsed": and_(r.now == 0, r.prev == 1)}[kind]
    rows = db.session.execute(select(r.reader_id, Reader.email, r.currency, r.given, r.before)
                              .join(Reader, Reader.id == r.reader_id).where(wanted)
                              .order_by(Reader.email, r.currency).limit(LIMIT + 1))
    label = "gave in the period before" if kind == "lapsed" else "gave in the period"
    return [Line("", reader_id, email, label, int(before if kind == "lapsed" else given), cur)
            for reader_id, email, cur, given, before in rows]


def _totals(lines: list[Line]) -> list[str]:
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        sums[line.currency] += line.amount_minor
    return [format_money(v, c) for c, v in sorted(sums.items())]


def _page(heading: str, explain: str, lines: list[Line], back: str) -> tuple[str, int]:
    shown = lines[:LIMIT]
    readers = len({(line.reader_id, line.currency) for line in shown if line.reader_id})
    return render_template("console/dashboard_drill.html", heading=heading, explain=explain, lines=shown,
                           truncated=len(lines) > LIMIT, totals=_totals(shown), readers=readers, back=back), 200


def _currency(args: Any) -> str | None:
    value = (args.get("currency") or "").strip()
    if value and value not in data.currencies_in_use(data.main_currency()):
        raise BadFilter(f"Unknown currency {value[:10]!r}.")
    return value or None


@bp.get("/dashboard/movements")
@staff_page("reports:read")
def drill_movements() -> tuple[str, int]:
    month, kind = parse_month(request.args.get("month", ""), "The month"), request.args.get("kind", "")
    currency = _currency(request.args)
    lines = movement_lines(month, kind, currency)
    name = "Churn" if kind == CHURN else kind.replace("_", " ").capitalize()
    return _page(f"{name} in {month:%B %Y}" + (f" ({currency})" if currency else ""),
                 "Membership MRR movements, oldest first; the amounts are monthly recurring revenue in the "
                 "subscription's currency.", lines, "#movements")


@bp.get("/dashboard/charges")
@staff_page("reports:read")
def drill_charges() -> tuple[str, int]:
    month, stream = parse_month(request.args.get("month", ""), "The month"), request.args.get("stream", "")
    currency = _currency(request.args)
    lines = money_event_lines(month, stream, currency)
    return _page(f"Net sales, {stream.replace('_', ' ')}, {month:%B %Y}" + (f" ({currency})" if currency else ""),
                 "Charges, refunds and disputes booked to this accounting month (refunds and disputes negative).",
                 lines, "#cash")


@bp.get("/dashboard/donors")
@staff_page("reports:read")
def drill_donors() -> tuple[str, int]:
    start = parse_month(request.args.get("start", ""), "The first month")
    end = next_month(parse_month(request.args.get("end", ""), "The last month"))
    if end <= start:
        raise BadFilter("The first month must not be after the last month.")
    kind, currency = request.args.get("kind", "donors"), _currency(request.args)
    lines = donor_lines(start, end, kind, currency)
    last = data.add_months(end, -1)
    return _page(f"Donors ({kind}), {start:%B %Y} to {last:%B %Y}" + (f" ({currency})" if currency else ""),
                 "Each reader once per currency, with what they gave in the period (lapsed: in the period before). "
                 "Gifts fully refunded or lost in a dispute do not count.", lines, "#donors")
