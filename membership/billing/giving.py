"""Giving arithmetic, in one place for the receipts, the year-end statement mail and the
donor report (reports/donors.py), so all three agree to the cent.

What a year's giving is (`counted_payments`): each payment net of its succeeded
refunds; a payment refunded in full or lost to a chargeback is no gift and is left out
with its benefit; a benefit is never more than what was kept. The year runs in the
outlet's time zone.

What a receipt says about taxes, by the outlet's fiscal status (IRS Publication 1771).

A 501(c)(3) acknowledges the gift with its EIN; when the donor got something back
(member benefits, a tote bag) the receipt states the good-faith value of it and the
deductible part = paid - that value, otherwise that no goods or services were provided.
A fiscally sponsored project says the same through its sponsor. A for-profit outlet
says plainly that nothing it sells or receives is tax-deductible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, Subquery, case, func, select

from membership.billing.models import Dispute, Payment, Refund
from membership.config import Settings
from membership.enums import Stream
from membership.identity.models import Reader
from membership.money import format_money


@dataclass(frozen=True)
class TaxStatement:
    """The sentences (English, for staff reports) and the amounts behind them in minor
    units, so mail can word the same figures in the reader's language."""

    deductible: bool
    paid: str
    benefit_value: str
    deductible_amount: str
    lines: tuple[str, ...]
    currency: str = "USD"
    paid_minor: int = 0
    benefit_minor: int = 0
    deductible_minor: int = 0


def _who(settings: Settings) -> str:
    if settings.fiscal_status == "fiscally_sponsored":
        return (f"{settings.outlet_name} is a fiscally sponsored project of a 501(c)(3) "
                "public charity, our fiscal sponsor, which receives contributions made to us.")
    ein = f" (EIN {settings.outlet_ein})" if settings.outlet_ein else ""
    return f"{settings.outlet_name} is a 501(c)(3) nonprofit organization{ein}."


def tax_statement(settings: Settings, paid_minor: int, benefit_minor: int, currency: str) -> TaxStatement:
    """The sentences a receipt (or a year-end statement) prints about deductibility."""
    benefit = max(0, min(benefit_minor, paid_minor))
    deductible_minor = paid_minor - benefit
    paid, value = format_money(paid_minor, currency), format_money(benefit, currency)
    deductible = format_money(deductible_minor, currency)
    if settings.fiscal_status == "for_profit":
        line = (f"{settings.outlet_name} is not a charitable organization: this payment is "
                "not tax-deductible as a charitable contribution.")
        return TaxStatement(False, paid, value, format_money(0, currency), (line,), currency, paid_minor, benefit, 0)
    if benefit == 0:
        detail = "No goods or services were provided in exchange for this contribution."
    else:
        detail = (f"In exchange you received goods or services (member benefits) with an estimated "
                  f"fair-market value of {value}. The amount deductible for federal income tax "
                  f"purposes is limited to {deductible} = {paid} paid - {value} fair-market value of benefits.")
    keep = "Please keep this message for your tax records."
    return TaxStatement(True, paid, value, deductible, (_who(settings), detail, keep), currency, paid_minor, benefit,
                        deductible_minor)


def year_bounds(year: int, settings: Settings | None = None) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of `year` in the outlet's time zone, as UTC instants."""
    s: Settings = settings or current_app.config["SETTINGS"]
    tz = ZoneInfo(s.outlet_timezone)
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


def counted_payments(start: datetime, end: datetime) -> Subquery:
    """The payments of [start, end) a statement counts, with `net` and capped `benefit`."""
    refunded = (
        select(Refund.payment_id, func.sum(Refund.amount_minor).label("amount"))
        .where(Refund.status == "succeeded").group_by(Refund.payment_id).subquery()
    )
    lost = select(Dispute.id).where(Dispute.payment_id == Payment.id, Dispute.status == "lost").exists()
    net = Payment.gross_minor - func.coalesce(refunded.c.amount, 0)
    benefit = case((Payment.benefit_value_minor > net, net), else_=Payment.benefit_value_minor)
    return (
        select(Payment.id, Payment.reader_id, Payment.currency, Payment.paid_at, Payment.stream,
               net.label("net"), benefit.label("benefit"))
        .outerjoin(refunded, refunded.c.payment_id == Payment.id)
        .where(Payment.stream != Stream.OTHER, Payment.paid_at >= start, Payment.paid_at < end, net > 0, ~lost)
        .subquery()
    )


def statement_totals(year: int, settings: Settings | None = None) -> Select[Any]:
    """Per reader and currency (not erased): reader_id, email, name, currency, paid, benefit,
    number of payments; ordered by reader and currency."""
    counted = counted_payments(*year_bounds(year, settings))
    return (
        select(counted.c.reader_id, Reader.email, Reader.name, counted.c.currency, func.sum(counted.c.net),
               func.sum(counted.c.benefit), func.count(counted.c.id))
        .join(Reader, Reader.id == counted.c.reader_id)
        .where(Reader.deleted_at.is_(None))
        .group_by(counted.c.reader_id, Reader.email, Reader.name, counted.c.currency)
        .order_by(counted.c.reader_id, counted.c.currency)
    )
