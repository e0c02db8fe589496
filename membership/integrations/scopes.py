"""What an API key or an outbound endpoint may see.

`entitlements:read`: whether a reader is a member (tier, until, why), asked by email
or reader id; the answer names no one. `members:read`: the reader's email and name, in
the entitlement answer and in webhook payloads. Without it a payload names the reader
by id only: a receiver that only needs to know "member 42 upgraded" never holds a list
of addresses (one leak fewer to report).
"""

from __future__ import annotations

ENTITLEMENTS_READ = "entitlements:read"
MEMBERS_READ = "members:read"
SCOPES: dict[str, str] = {
    ENTITLEMENTS_READ: "Membership status (member, tier, until, reason) of a reader.",
    MEMBERS_READ: "The reader's email address and name (API lookups by email; webhook payloads).",
}


def check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """Sorted, unique, known scopes, or ValueError naming the unknown one."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    return sorted(set(scopes))
