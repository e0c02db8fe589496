"""The report an import prints: what it did, then every rejected line with its reason.

Why the same text for a dry run: the operator checks the dry run's report, fixes the
file, and the real run must then say exactly the same (plus that it was applied).
"""

from __future__ import annotations

from dataclasses import dataclass

from membership.readers.importing.apply import Outcome
from membership.readers.importing.parse import Parsed, Rejection


@dataclass(frozen=True)
class Report:
    source: str
    file_name: str
    parsed: Parsed
    outcome: Outcome
    dry_run: bool

    @property
    def rejections(self) -> list[Rejection]:
        return sorted(self.parsed.rejections + self.outcome.rejections, key=lambda r: r.line)

    def lines(self) -> list[str]:
        o = self.outcome
        out = [
            f"members import from {self.source}: {self.file_name}, {self.parsed.data_rows} data rows",
            f"readers: {o.created} new, {o.updated} updated, {o.unchanged} unchanged",
            f"newsletter opt-ins: {o.opt_ins} (consents recorded: {o.consents}), labels: {o.labels}, "
            f"comps: {o.comps}, Stripe customers linked: {o.stripe_linked}",
        ]
        out += [f"warning: {w}" for w in self.parsed.warnings]
        if self.parsed.ignored_columns:
            out.append(f"ignored columns: {', '.join(self.parsed.ignored_columns)}")
        rejected = self.rejections
        out.append(f"rejected: {len(rejected)} rows" + (":" if rejected else ""))
        out += [f"line {r.line}: {r.reason}" for r in rejected]
        out.append("dry run: nothing was changed" if self.dry_run else "applied")
        return out
