"""When each notice goes out, and the legal window it must land in: one table.

Rows follow EMAIL.md (California's Automatic Renewal Law as the strictest common rule;
not legal advice). Offsets and windows are measured BEFORE an event: the renewal date,
the trial's end, the date a new price applies, the signup anniversary.

- `offset`: how long before the event we send.
- `legal_max`: the earliest the notice may go (window opens at event - legal_max).
- `legal_min`: the latest it may go (window closes at event - legal_min); a notice still
  unsent near that moment raises a staff alert (alerts.py).

The yearly reminder's rule is "at least once a year"; EMAIL.md says "send at the signup
anniversary". We anchor the window on the anniversary (closing on it) and send a week
ahead, so a slow or retried send still lands inside the year and staff hear about it
before it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(days=1)


@dataclass(frozen=True)
class NoticePolicy:
    kind: str
    event: str
    offset: timedelta
    legal_min: timedelta
    legal_max: timedelta

    def __post_init__(self) -> None:
        if not self.legal_min <= self.offset <= self.legal_max:
            raise ValueError(f"{self.kind}: offset {self.offset} is outside its legal window")

    def due_at(self, event_at: datetime) -> datetime:
        return event_at - self.offset

    def window_opens_at(self, event_at: datetime) -> datetime:
        return event_at - self.legal_max

    def window_closes_at(self, event_at: datetime) -> datetime:
        return event_at - self.legal_min

    def in_window(self, event_at: datetime, at: datetime) -> bool:
        return self.window_opens_at(event_at) <= at <= self.window_closes_at(event_at)


POLICIES: dict[str, NoticePolicy] = {
    p.kind: p
    for p in (
        # A term of a year or more that renews: 15-45 days before renewal; we send at 30.
        NoticePolicy("renewal_notice", "renewal date", 30 * DAY, 15 * DAY, 45 * DAY),
        # Free trial or intro price (31+ days): 3-21 days before it ends; we send at 7.
        NoticePolicy("trial_ending", "trial end", 7 * DAY, 3 * DAY, 21 * DAY),
        # Stripe's trial_will_end fires 3 days before the end: the last day of the window.
        NoticePolicy("trial_will_end", "trial end", 3 * DAY, 3 * DAY, 21 * DAY),
        # A price change: 7-30 days before it applies; we send at 21.
        NoticePolicy("price_change", "new price applies", 21 * DAY, 7 * DAY, 30 * DAY),
        # Every auto-renewing plan, monthly too: at least once a year (see module doc).
        NoticePolicy("annual_reminder", "signup anniversary", 7 * DAY, 0 * DAY, 30 * DAY),
    )
}

# Notices that must say how to cancel, with a one-click link to the account page.
RENEWAL_LAW_KINDS = frozenset(POLICIES)

# How long before a window closes an unsent notice becomes a staff alert.
ALERT_LEAD = 2 * DAY


def policy_for(kind: str) -> NoticePolicy | None:
    return POLICIES.get(kind)
