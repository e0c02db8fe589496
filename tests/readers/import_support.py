"""A Ghost members export for the import tests: every kind of column, awkward cells
(commas, quotes, accents, notes over several lines, mixed-case addresses) and bad rows
whose line numbers are worked out while the file is written, as an editor shows them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

GHOST_HEADER = ["id", "email", "name", "note", "subscribed_to_emails", "complimentary_plan",
                "stripe_customer_id", "created_at", "deleted_at", "labels", "tiers"]
BASE = datetime(2021, 3, 1, 9, 30, tzinfo=UTC)


@dataclass
class Member:
    email: str
    name: str
    note: str
    subscribed: bool
    comp: bool
    customer: str | None
    created_at: datetime
    labels: list[str]


@dataclass
class GhostExport:
    path: Path
    members: list[Member] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)  # line -> part of the reason

    @property
    def subscribed(self) -> list[Member]:
        return [m for m in self.members if m.subscribed]

    @property
    def comped(self) -> list[Member]:
        return [m for m in self.members if m.comp]


def _member(i: int) -> Member:
    email = f"member{i}@ghost-example.org"
    labels = (["VIP", "print"] if i % 4 == 0 else []) + (["founding"] if i % 5 == 0 else [])
    tiers = ["tier:Gold"] if i % 10 == 0 else []
    return Member(
        email=email,
        name=["Ada Lovelace", "Zoë O'Brien, Jr.", 'Sam "the reader" Lee', ""][i % 4] + (f" {i}" if i % 4 != 3 else ""),
        note="met at the fair\nwants print edition" if i % 50 == 0 else ("" if i % 3 else f"note {i}"),
        subscribed=i % 3 != 0, comp=i % 25 == 0, customer=f"cus_G{i:06d}" if i % 10 == 0 else None,
        created_at=BASE + timedelta(hours=7 * i), labels=labels + tiers,
    )


def _cells(m: Member, i: int, email: str | None = None) -> list[str]:
    ghost_labels = ", ".join(label for label in m.labels if not label.startswith("tier:"))
    tiers = ", ".join(label[5:] for label in m.labels if label.startswith("tier:"))
    return [f"6{i:023x}", email or m.email, m.name, m.note, str(m.subscribed).lower(), str(m.comp).lower(),
            m.customer or "", m.created_at.isoformat().replace("+00:00", ".000Z"), "", ghost_labels, tiers]


def write_ghost_export(path: Path, count: int = 3000) -> GhostExport:
    """`count` good members and a bad row every 97th; a few good ones in mixed case."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GHOST_HEADER)
    export = GhostExport(path)

    def line() -> int:
        return out.getvalue().count("\n") + 1

    for i in range(count):
        m = _member(i)
        shown = m.email.replace("member", "Member").replace("ghost", "GHOST") if i % 7 == 0 else m.email
        writer.writerow(_cells(m, i, shown))
        export.members.append(m)
        if i % 97 == 50:
            bad = i // 97 % 5
            n = line()
            if bad == 0:
                writer.writerow(_cells(_member(count + i), count + i, "not-an-address"))
                export.rejected[n] = "invalid email"
            elif bad == 1:
                writer.writerow(_cells(_member(count + i), count + i, " "))
                export.rejected[n] = "empty email"
            elif bad == 2:
                writer.writerow([*_cells(_member(count + i), count + i), "surplus"])
                export.rejected[n] = "12 fields but the header has 11"
            elif bad == 3:
                cells = _cells(_member(count + i), count + i)
                cells[7] = "31/12/2020"
                writer.writerow(cells)
                export.rejected[n] = "unreadable date '31/12/2020' in created_at"
            else:
                writer.writerow(_cells(m, i, m.email.upper()))
                export.rejected[n] = "repeats the email of line"
    path.write_text(out.getvalue(), encoding="utf-8")
    return export
