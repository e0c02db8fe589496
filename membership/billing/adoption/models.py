"""Where an adoption of a Stripe account stands: runs and one cursor per list walked.

A run's `adopted_at` is the adoption date (the first run's start): objects created
before it are history the old system already told readers about (no mail); the books
tie to Stripe from it on. A checkpoint remembers the last id handled per resource
(Stripe lists newest first and pages by `starting_after`), committed with that
object's effects, so a killed run resumes at the next object and never does one twice
(and doing one twice would change nothing anyway: every step is an upsert).
`ending_before` remembers the newest id handled, so objects created while the run
walked older ones are picked up afterwards (Stripe's `ending_before` cursor).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, intpk, optional_timestamp, timestamp


class AdoptionRun(Base):
    """One `flask stripe adopt` from start to finish (a resumed run continues its row)."""

    __tablename__ = "stripe_adoption_runs"

    id: Mapped[intpk]
    started_at: Mapped[timestamp]
    adopted_at: Mapped[timestamp]
    finished_at: Mapped[optional_timestamp]
    donation_products: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="{}")


class AdoptionCheckpoint(Base):
    """The last Stripe id handled in one list of one run, and how many were handled."""

    __tablename__ = "stripe_adoption_checkpoints"
    __table_args__ = (UniqueConstraint("run_id", "resource"),)

    id: Mapped[intpk]
    run_id: Mapped[int] = mapped_column(ForeignKey("stripe_adoption_runs.id"))
    resource: Mapped[str] = mapped_column(String(32))
    starting_after: Mapped[str | None] = mapped_column(String(255))
    ending_before: Mapped[str | None] = mapped_column(String(255))  # the newest handled
    seen: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[optional_timestamp]
    updated_at: Mapped[timestamp]
