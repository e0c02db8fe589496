"""The one table of what each staff role may do.

Why one table: a guard per route that names a role ("admin", "any role") let a
finance token create newsletters and send campaigns. Routes now name a *permission*
(`require_permission("newsletters:write")` in membership/staff/auth.py) and only this
table says which roles hold it, so changing a role's reach is a one-line diff that
review sees whole. Unknown permission names fail at import time, not at request time.

    admin    everything (only admins hold integrations:*: keys and endpoints reach other systems)
    finance  reports and their exports, members read-only, the webhook inbox, notice alerts
    editor   newsletters and campaigns, the webhook inbox
    support  member lookup and the member actions (refunds, cancellations, comps, resending
             receipts and links), the webhook inbox, notice alerts; no exports
    (admin only: erasure, the catalogue, the console's Operations pages, ending staff sessions,
    the member import upload: it creates readers, opt-ins with consent evidence and comps in bulk)

Notice alerts (unsent renewal-law notices, with readers' emails) go to finance (the
refund/compliance exposure is theirs) and support (they answer the reader), not to editors.
"""

from __future__ import annotations

from membership.enums import StaffRole

PERMISSIONS: dict[str, str] = {
    "console:open": "Sign in to the staff console (its home page; each area needs its own permission).",
    "reports:read": "Finance reports as JSON.",
    "exports:download": "Any file download (a report as format=csv); always audited.",
    "members:read": "Look up readers, comps and gift memberships.",
    "comps:write": "Grant and revoke complimentary memberships.",
    "links:resend": "Resend a reader's confirmation or sign-in link.",
    "newsletters:read": "Newsletters and campaigns.",
    "newsletters:write": "Create newsletters and campaigns; schedule, pause, resume, cancel sends.",
    "inbox:read": "The Stripe webhook inbox by status.",
    "inbox:replay": "Replay a stored Stripe event.",
    "notices:read": "Unsent notices whose legal window closes soon.",
    "audit:read": "The staff audit log.",
    "payments:refund": "Refund a member's payment in full or in part (through Stripe).",
    "subscriptions:cancel": "Cancel a member's subscription now or at the end of its period.",
    "receipts:resend": "Send a member's receipt again.",
    "readers:erase": "Erase a reader's personal data.",
    "members:import": "Import members from a Ghost, Substack, Mailchimp or CSV export (console upload).",
    "catalogue:read": "The catalogue: tiers, prices, offers, promotion codes (console).",
    "catalogue:write": "Change the catalogue in Stripe; run the price-change notice flow.",
    "operations:read": "The console's Operations pages: webhook inbox, notice alerts, failed notices, audit log, "
                       "staff sessions.",
    "staff_sessions:end": "End a staff member's console sessions.",
    "integrations:read": "API keys, the token-signing keys, outbound webhook endpoints and their delivery log.",
    "integrations:write": "Create and revoke API keys, rotate the signing key; add, change, disable outbound "
                          "webhook endpoints and replay deliveries.",
}

_FINANCE = {"console:open", "reports:read", "exports:download", "members:read", "inbox:read", "notices:read"}
_EDITOR = {"console:open", "newsletters:read", "newsletters:write", "inbox:read"}
_SUPPORT = {"console:open", "members:read", "comps:write", "links:resend", "inbox:read", "notices:read", "payments:refund",
            "subscriptions:cancel", "receipts:resend"}

ROLE_PERMISSIONS: dict[StaffRole, frozenset[str]] = {
    StaffRole.ADMIN: frozenset(PERMISSIONS),
    StaffRole.FINANCE: frozenset(_FINANCE),
    StaffRole.EDITOR: frozenset(_EDITOR),
    StaffRole.SUPPORT: frozenset(_SUPPORT),
}


def check_permission(permission: str) -> str:
    """The name itself, or ValueError for a typo (called when a route is declared)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown staff permission {permission!r}; add it to membership/staff/roles.py")
    return permission


def allows(role: StaffRole, permission: str) -> bool:
    return check_permission(permission) in ROLE_PERMISSIONS[role]


def roles_with(permission: str) -> list[StaffRole]:
    """In the enum's order, for error messages and the OpenAPI scheme descriptions."""
    return [role for role in StaffRole if allows(role, permission)]
