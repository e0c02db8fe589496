"""Request/response models of the reader billing API (strict: see membership.api)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from membership.api import ApiModel
from membership.identity.schemas import Email

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
Amount = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text1000 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
PromoCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{1,64}$")]


class PriceOut(BaseModel):
    id: int
    currency: str
    interval: str
    amount_minor: int | None
    min_amount_minor: int
    max_amount_minor: int
    display: str


class OfferingOut(BaseModel):
    code: str
    name: str
    description: str
    kind: str
    prices: list[PriceOut]


class OfferingsOut(BaseModel):
    offerings: list[OfferingOut]
    fee_model: str


class TributeIn(ApiModel):
    kind: Literal["honor", "memory"]
    name: Text200


class GiftIn(ApiModel):
    recipient_email: Email
    recipient_name: Text200
    message: Text1000 | None = None
    months: int = Field(default=12, ge=1, le=24)
    # The day the recipient gets the code by mail (billing/gifts.py); without it the code
    # goes to the purchaser at once, who passes it on.
    deliver_on: date | None = None


class CheckoutIn(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True},
        {"plan": "one-time-gift", "currency": "EUR", "amount": "25.00", "cover_fees": True,
         "tribute": {"kind": "honor", "name": "Ida B. Wells"}},
    ]})

    plan: Code
    currency: CurrencyCode
    interval: Literal["month", "year"] | None = None
    amount: Amount | None = None
    cover_fees: bool = False
    tribute: TributeIn | None = None
    anonymous: bool = False
    message: Text1000 | None = None
    accept_auto_renewal: bool = False
    gift: GiftIn | None = None
    promotion_code: PromoCode | None = None  # a Stripe promotion code, as the reader typed it


class CheckoutOut(BaseModel):
    id: int
    stripe_session_id: str
    url: str
    mode: str
    amount_minor: int
    fee_cover_minor: int
    currency: str


class SubscriptionOut(BaseModel):
    id: int
    stream: str
    status: str
    plan: str | None
    amount_minor: int
    currency: str
    interval: str
    cancel_at_period_end: bool
    current_period_end: datetime | None


class PaymentOut(BaseModel):
    id: int
    stream: str
    amount_minor: int
    currency: str
    paid_at: datetime


class DonationOut(BaseModel):
    id: int
    amount_minor: int
    currency: str
    status: str
    tribute_kind: str
    anonymous: bool
    created_at: datetime


class HistoryOut(BaseModel):
    subscriptions: list[SubscriptionOut]
    payments: list[PaymentOut]
    donations: list[DonationOut]


class PortalOut(BaseModel):
    url: str


class CancelIn(ApiModel):
    reason: Literal["too_expensive", "missing_features", "switched_service", "unused", "customer_service",
                    "too_complex", "low_quality", "other"] | None = None
    comment: Text1000 | None = None


class ChangePlanIn(ApiModel):
    price_id: int = Field(ge=1, le=2**62)


class ChangeAmountIn(ApiModel):
    amount: Amount


class RedeemIn(ApiModel):
    code: Annotated[str, StringConstraints(min_length=8, max_length=40, pattern=r"^[A-Za-z0-9 -]+$")]


class RedeemOut(BaseModel):
    gift_id: int
    expires_at: datetime
