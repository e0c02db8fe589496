"""Which column of each platform's export feeds which field of an imported member.

Why one table per source and not guessing: the exports are stable, documented
formats, and a column we do not name is ignored (and listed in the report) rather than
half-understood. `--map COLUMN=FIELD` extends or overrides a table; `--from csv` starts
from columns named exactly like the fields. docs/importing.md explains each choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The fields a column can feed (the targets of `--map`).
FIELDS = frozenset({
    "email",               # required
    "name", "first_name", "last_name",
    "note",                # staff-only remark
    "subscribed",          # true/false: opted in to newsletters
    "email_disabled",      # true/false: the inverse (Substack)
    "subscribed_at",       # when the opt-in was given or confirmed
    "created_at",          # when the reader signed up at the source
    "complimentary",       # true/false: a comp carries over
    "plan",                # a plan name; "comp" means complimentary, any value becomes a label plan:<value>
    "comp_expires_at",     # when a carried-over comp ends
    "stripe_customer_id",  # cus_...; linked to the reader
    "labels",              # comma-separated labels
    "tiers",               # comma-separated tier names, kept as labels tier:<name>
})


@dataclass(frozen=True)
class Format:
    """A source's columns (lower-cased header -> field) and whether a listed address is
    an opt-in when the export has no column saying so (a Mailchimp audience export of
    subscribed members, a Substack email list)."""

    name: str
    columns: Mapping[str, str]
    subscribed_by_default: bool = False
    notes: tuple[str, ...] = field(default=())


def _table(pairs: dict[str, str]) -> Mapping[str, str]:
    assert set(pairs.values()) <= FIELDS, set(pairs.values()) - FIELDS
    return MappingProxyType(pairs)


GHOST = Format("ghost", _table({
    "email": "email", "name": "name", "note": "note", "subscribed_to_emails": "subscribed",
    "complimentary_plan": "complimentary", "stripe_customer_id": "stripe_customer_id",
    "created_at": "created_at", "labels": "labels", "tiers": "tiers",
}))

SUBSTACK = Format("substack", _table({
    "email": "email", "name": "name", "created_at": "created_at", "plan": "plan",
    "expiry": "comp_expires_at", "email_disabled": "email_disabled",
}), subscribed_by_default=True)

MAILCHIMP = Format("mailchimp", _table({
    "email address": "email", "first name": "first_name", "last name": "last_name",
    "optin_time": "created_at", "confirm_time": "subscribed_at", "tags": "labels", "notes": "note",
}), subscribed_by_default=True)

CSV = Format("csv", _table({name: name for name in FIELDS}))

FORMATS: Mapping[str, Format] = MappingProxyType({f.name: f for f in (GHOST, SUBSTACK, MAILCHIMP, CSV)})


class MappingError(ValueError):
    """A `--map` that names no column of the file or no field."""


def parse_maps(pairs: tuple[str, ...]) -> dict[str, str]:
    """`COLUMN=FIELD` options -> {lower-cased column: field}."""
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        column, target = column.strip().lower(), target.strip().lower()
        if not sep or not column:
            raise MappingError(f"--map {pair!r}: write COLUMN=FIELD")
        if target not in FIELDS:
            raise MappingError(f"--map {pair!r}: FIELD is one of {', '.join(sorted(FIELDS))}")
        out[column] = target
    return out


def resolve(header: list[str], fmt: Format, overrides: Mapping[str, str]) -> tuple[dict[int, str], list[str]]:
    """Column index -> field for this file's header, and the header names left unused."""
    names = [h.strip().lower() for h in header]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise MappingError(f"--map names columns the file does not have: {', '.join(unknown)}")
    chosen: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(names):
        target = overrides.get(name) or fmt.columns.get(name)
        if target is None:
            ignored.append(header[index].strip())
            continue
        if target in chosen.values():
            raise MappingError(f"two columns feed {target}; keep one (--map the other to another field)")
        chosen[index] = target
    return chosen, ignored
