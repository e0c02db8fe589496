"""The policy table: every send offset sits inside its legal window (EMAIL.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from membership.billing.notices.policy import POLICIES, RENEWAL_LAW_KINDS, NoticePolicy, policy_for

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("kind", "offset", "legal_min", "legal_max"),
    [
        ("renewal_notice", 30, 15, 45),
        ("trial_ending", 7, 3, 21),
        ("trial_will_end", 3, 3, 21),
        ("price_change", 21, 7, 30),
        ("annual_reminder", 7, 0, 30),
    ],
)
def test_windows_match_email_md(kind: str, offset: int, legal_min: int, legal_max: int) -> None:
    policy = POLICIES[kind]
    assert (policy.offset, policy.legal_min, policy.legal_max) == (offset * DAY, legal_min * DAY, legal_max * DAY)
    event = datetime(2027, 3, 31, 12, tzinfo=UTC)
    assert policy.in_window(event, policy.due_at(event))
    assert policy.window_closes_at(event) == event - legal_min * DAY
    assert policy.window_opens_at(event) == event - legal_max * DAY
    assert not policy.in_window(event, event - (legal_max + 1) * DAY)
    assert not policy.in_window(event, event - (legal_min * DAY) + timedelta(seconds=1))


def test_renewal_at_30_days_is_inside_15_to_45() -> None:
    renewal = datetime(2027, 6, 1, tzinfo=UTC)
    policy = POLICIES["renewal_notice"]
    assert policy.due_at(renewal) == datetime(2027, 5, 2, tzinfo=UTC)
    assert renewal - 45 * DAY <= policy.due_at(renewal) <= renewal - 15 * DAY


def test_an_offset_outside_its_window_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="outside its legal window"):
        NoticePolicy("bad", "event", 50 * DAY, 15 * DAY, 45 * DAY)


def test_renewal_law_kinds_and_lookup() -> None:
    assert {"renewal_notice", "trial_ending", "price_change", "annual_reminder"} <= RENEWAL_LAW_KINDS
    assert "payment_receipt" not in RENEWAL_LAW_KINDS
    assert policy_for("payment_receipt") is None
    assert policy_for("price_change") is POLICIES["price_change"]
