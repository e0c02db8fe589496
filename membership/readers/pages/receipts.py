"""Printable receipts (one per payment) and giving statements (one per year).

A reader sees only their own: another reader's payment is the same 404 as a
missing one. The numbers come from billing/giving.py, the arithmetic the statement
mail and the donor report share, so the page, the mail and finance agree to the
cent; the sentences about taxes are the page's own, in the reader's language.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from membership.billing.giving import counted_payments, year_bounds
from membership.billing.models import Payment, Plan, Price, Refund, Subscription
from membership.errors import NotFound
from membership.extensions import db
from membership.readers.pages.account_common import reader_errors, streams
from membership.readers.pages.blueprint import bp, page, signed_in

_FIRST_YEAR = 2000


def _what_for(payment: Payment) -> str | None:
    """The plan's name for a subscription payment (None for a one-time gift)."""
    if payment.subscription_id is None:
        return None
    return db.session.scalar(select(Plan.name).join(Price, Price.plan_id == Plan.id)
                             .join(Subscription, Subscription.price_id == Price.id)
                             .where(Subscription.id == payment.subscription_id))


def _tax(paid_minor: int, benefit_minor: int) -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    benefit = max(0, min(benefit_minor, paid_minor))
    return {"status": settings.fiscal_status, "ein": settings.outlet_ein, "paid": paid_minor, "benefit": benefit,
            "deductible": paid_minor - benefit}


@bp.get("/account/payments/<int:payment_id>/receipt")
@reader_errors
def receipt_page(payment_id: int) -> tuple[str, int]:
    reader = signed_in()
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id, Payment.reader_id == reader.id))
    if payment is None:
        raise NotFound("No such payment.")
    refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
        Refund.payment_id == payment.id, Refund.status == "succeeded")) or 0
    kept = max(0, payment.gross_minor - int(refunded))
    return page("readers/receipt.html", reader=reader, payment=payment, stream=streams()[payment.stream],
                what_for=_what_for(payment), refunded=int(refunded), kept=kept,
                tax=_tax(kept, payment.benefit_value_minor), address=current_app.config["SETTINGS"].outlet_postal_address)


def _totals(rows: list[Any]) -> list[dict[str, Any]]:
    by_currency: dict[str, list[int]] = {}
    for row in rows:
        paid_benefit = by_currency.setdefault(row.currency, [0, 0])
        paid_benefit[0] += int(row.net)
        paid_benefit[1] += int(row.benefit)
    return [{"currency": cur, **_tax(paid, benefit)} for cur, (paid, benefit) in sorted(by_currency.items())]


@bp.get("/account/statements/<int:year>")
@reader_errors
def statement_page(year: int) -> tuple[str, int]:
    reader = signed_in()
    if not _FIRST_YEAR <= year <= datetime.now(UTC).year + 1:
        raise NotFound("No statement for that year.")
    counted = counted_payments(*year_bounds(year))
    rows = list(db.session.execute(select(counted).where(counted.c.reader_id == reader.id)
                                   .order_by(counted.c.paid_at, counted.c.id)))
    return page("readers/statement.html", reader=reader, year=year, rows=rows, streams=streams(),
                totals=_totals(rows), address=current_app.config["SETTINGS"].outlet_postal_address)
