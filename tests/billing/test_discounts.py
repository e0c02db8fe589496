"""The monthly value of a subscription's discounts (billing/discounts.py), on payloads in
Stripe's shapes; the same numbers end to end through stripe_sim are in
test_mrr_discounts.py."""

from __future__ import annotations

from typing import Any

import pytest

from membership.billing.discounts import discount_ids, monthly_discount_minor


def _sub(unit: int, interval: str = "month", *coupons: dict[str, Any], currency: str = "usd") -> dict[str, Any]:
    return {
        "id": "sub_1", "object": "subscription", "currency": currency,
        "items": {"data": [{"price": {"unit_amount": unit, "recurring": {"interval": interval, "interval_count": 1}},
                            "quantity": 1}]},
        "discounts": [{"id": f"di_{n}", "object": "discount",
                       "source": {"type": "coupon", "coupon": {"object": "coupon", **c}}}
                      for n, c in enumerate(coupons)],
    }


@pytest.mark.parametrize(("unit", "interval", "coupon", "full", "expected"), [
    (1000, "month", {"percent_off": 50, "duration": "repeating"}, 1000, 500),
    (1000, "month", {"percent_off": 33.3, "duration": "forever"}, 1000, 333),   # 333.0
    (1001, "month", {"percent_off": 50, "duration": "forever"}, 1001, 501),     # 500.5 rounds half up
    (12000, "year", {"amount_off": 2400, "currency": "usd", "duration": "forever"}, 1000, 200),  # per year -> /12
    (1000, "month", {"amount_off": 5000, "currency": "usd", "duration": "forever"}, 1000, 1000),  # capped at full
    (1000, "month", {"amount_off": 500, "currency": "eur", "duration": "forever"}, 1000, 0),  # other currency
    (1000, "month", {"percent_off": 50, "duration": "once"}, 1000, 0),  # one invoice, not the run rate
])
def test_monthly_discount(unit: int, interval: str, coupon: dict[str, Any], full: int, expected: int) -> None:
    assert monthly_discount_minor(_sub(unit, interval, coupon), full) == expected


def test_several_discounts_apply_in_order_to_what_is_left() -> None:
    both = _sub(1000, "month", {"percent_off": 50, "duration": "forever"},
                {"amount_off": 300, "currency": "usd", "duration": "repeating"})
    assert monthly_discount_minor(both, 1000) == 800  # 1000 -> 500 -> 200
    assert monthly_discount_minor(_sub(1000, "month", {"percent_off": 80, "duration": "forever"},
                                       {"percent_off": 50, "duration": "forever"}), 1000) == 900  # -> 200 -> 100
    assert monthly_discount_minor(_sub(1000, "month", {"amount_off": 800, "currency": "usd", "duration": "forever"},
                                       {"amount_off": 800, "currency": "usd", "duration": "forever"}), 1000) == 1000


def test_unexpanded_coupons_are_refused_rather_than_counted_as_no_discount() -> None:
    sub = _sub(1000)
    sub["discounts"] = ["di_1"]
    with pytest.raises(ValueError, match="expanded"):
        monthly_discount_minor(sub, 1000)
    assert discount_ids(sub) == ("di_1",)
    assert discount_ids(_sub(1000, "month", {"percent_off": 5, "duration": "forever"})) == ("di_0",)
