"""The command's options -> an apply.Target (newsletters, the comp plan, comp length).

Why defaults at all: the contract runs `flask members import PATH --from ghost` with no
other option, so every choice needs a sensible default: opt-ins go to every active
newsletter (what "subscribed to emails" meant at the source), a comp is on the outlet's
entry membership plan (lowest rank) for 12 months from the import.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from membership.billing.models import Plan, PlanKind
from membership.extensions import db
from membership.newsletters.models import Newsletter
from membership.readers.importing.apply import Target

COMP_MONTHS = 12


class OptionError(ValueError):
    """An option names a newsletter or plan that does not exist."""


def newsletter_ids(slugs: tuple[str, ...]) -> tuple[int, ...]:
    if not slugs:
        return tuple(db.session.scalars(select(Newsletter.id).where(Newsletter.active.is_(True))
                                        .order_by(Newsletter.id)))
    found = dict(db.session.execute(select(Newsletter.slug, Newsletter.id).where(Newsletter.slug.in_(slugs))).all())
    missing = [s for s in slugs if s not in found]
    if missing:
        raise OptionError(f"no newsletter {', '.join(missing)}")
    return tuple(found[s] for s in slugs)


def comp_plan_id(code: str | None) -> int | None:
    query = select(Plan.id).where(Plan.kind == PlanKind.MEMBERSHIP)
    if code:
        plan = db.session.scalar(query.where(Plan.code == code))
        if plan is None:
            raise OptionError(f"no membership plan {code}")
        return plan
    return db.session.scalar(query.where(Plan.active.is_(True)).order_by(Plan.rank, Plan.id).limit(1))


def target(source: str, slugs: tuple[str, ...], plan_code: str | None, comp_months: int, now: datetime) -> Target:
    return Target(source=source, newsletter_ids=newsletter_ids(slugs), comp_plan_id=comp_plan_id(plan_code),
                  comp_until=now + timedelta(days=round(comp_months * 365.25 / 12)), now=now)
