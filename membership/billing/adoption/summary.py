"""What an adoption did and what it could not map, kept on the run row so a resumed run
prints the whole story, not only its own part."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from membership.money import format_money


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)  # objects handled per list
    unmapped: list[str] = field(default_factory=list)  # one line per thing we could not map
    notes: dict[str, int] = field(default_factory=dict)  # e.g. "readers created": 3
    mrr: dict[str, dict[str, int]] = field(default_factory=dict)  # stream -> currency -> minor
    tie_out: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> figures

    def note(self, what: str, n: int = 1) -> None:
        self.notes[what] = self.notes.get(what, 0) + n

    def could_not_map(self, line: str) -> None:
        if line not in self.unmapped:
            self.unmapped.append(line)

    def to_json(self) -> str:
        return json.dumps({"counts": self.counts, "unmapped": self.unmapped, "notes": self.notes, "mrr": self.mrr,
                           "tie_out": self.tie_out}, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | None) -> Summary:
        data: dict[str, Any] = json.loads(raw or "{}")
        return cls(counts=dict(data.get("counts") or {}), unmapped=list(data.get("unmapped") or []),
                   notes=dict(data.get("notes") or {}), mrr=dict(data.get("mrr") or {}),
                   tie_out=dict(data.get("tie_out") or {}))

    def lines(self) -> list[str]:
        out = ["adopted: " + ", ".join(f"{k} {v}" for k, v in self.counts.items())]
        out += [f"  {what}: {n}" for what, n in sorted(self.notes.items())]
        for stream, per_currency in sorted(self.mrr.items()):
            money = ", ".join(format_money(v, c) for c, v in sorted(per_currency.items())) or "none"
            out.append(f"MRR {stream}: {money}")
        for cur, fig in sorted(self.tie_out.items()):
            out.append(f"books {cur}: Stripe balance {format_money(fig['stripe_balance'], cur)}, "
                       f"stripe_clearing {format_money(fig['clearing'], cur)}, payouts in transit "
                       f"{format_money(fig['in_transit'], cur)}, difference {format_money(fig['difference'], cur)}")
        if self.unmapped:
            out.append(f"could not map ({len(self.unmapped)}):")
            out += [f"  - {line}" for line in self.unmapped]
        else:
            out.append("could not map: nothing")
        return out
