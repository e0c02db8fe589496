"""`flask stripe ...`: operator commands for the webhook inbox and subscription sync.

- `replay [EVENT_ID...] [--failed] [--dead]`: run chosen events again (handlers are
  idempotent), inline so the operator sees each outcome.
- `backfill --since ISO`: pull events Stripe has (30 days) into the inbox; the ones
  we never received are stored and processed, the rest are duplicates and skipped.
- `resync`: re-fetch every live subscription (what the nightly task does).
- `adopt [--rps N] [--donation-products prod_a,prod_b]`: read a whole existing Stripe
  account through its list endpoints and make local state equal to it; resumable,
  idempotent (billing/adoption/, docs/adoption.md).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click
from flask import Blueprint
from sqlalchemy import select

from membership.billing import inbox, processing
from membership.billing.adoption.walk import DEFAULT_RPS
from membership.billing.adoption.walk import adopt as adopt_account
from membership.billing.gateway.listing import events_since
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.extensions import db
from membership.queue import enqueue
from membership.unit_of_work import unit_of_work

bp = Blueprint("stripe_cli", __name__, cli_group="stripe")


def _chosen_ids(event_ids: tuple[str, ...], failed: bool, dead: bool) -> list[int]:
    wanted = [s for s, on in ((WebhookStatus.FAILED, failed), (WebhookStatus.DEAD, dead)) if on]
    ids: set[int] = set()
    if wanted:
        ids.update(db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.status.in_(wanted))))
    for ref in event_ids:
        row_id = db.session.scalar(select(WebhookEvent.id).where(
            WebhookEvent.id == int(ref) if ref.isdigit() else WebhookEvent.stripe_event_id == ref))
        if row_id is None:
            raise click.BadParameter(f"no stored event {ref!r}", param_hint="EVENT_ID")
        ids.add(int(row_id))
    return sorted(ids)


@bp.cli.command("replay")
@click.argument("event_ids", nargs=-1)
@click.option("--failed", is_flag=True, help="Every event waiting for a retry.")
@click.option("--dead", is_flag=True, help="Every event that ran out of attempts.")
@click.option("--enqueue", "to_queue", is_flag=True, help="Hand them to the workers instead of running inline.")
def replay(event_ids: tuple[str, ...], failed: bool, dead: bool, to_queue: bool) -> None:
    """Process stored events again (by id or evt_..., or by status)."""
    if not (event_ids or failed or dead):
        raise click.UsageError("name events, or pass --failed and/or --dead")
    ids = _chosen_ids(event_ids, failed, dead)
    with unit_of_work():
        processing.reset_for_replay(ids)
    for row_id in ids:
        if to_queue:
            ok = enqueue(inbox.PROCESS_TASK, row_id)
            click.echo(f"{row_id}: {'enqueued' if ok else 'broker unavailable (the sweeper will send it)'}")
        else:
            outcome, _ = processing.process(row_id)
            row = db.session.get(WebhookEvent, row_id)
            note = f" ({row.last_error})" if row is not None and row.last_error else ""
            click.echo(f"{row_id}: {outcome.value}{note}")
    click.echo(f"replayed {len(ids)} event(s)")


def _parse_since(value: str) -> int:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO date or time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@bp.cli.command("backfill")
@click.option("--since", required=True, help="ISO date/time; Stripe keeps 30 days of events.")
@click.option("--undelivered-only", is_flag=True, help="Only events Stripe failed to deliver.")
@click.option("--inline", is_flag=True, help="Process new events here instead of enqueueing them.")
def backfill(since: str, undelivered_only: bool, inline: bool) -> None:
    """Store events from GET /v1/events that the inbox does not have, oldest first."""
    events = events_since(_parse_since(since), undelivered_only)
    events.sort(key=lambda e: (int(e.get("created") or 0), e["id"]))
    new_ids: list[int] = []
    with unit_of_work():
        for payload in events:
            accepted = inbox.store(db.session.connection(), payload, json.dumps(payload).encode())
            if accepted.webhook_event_id is not None:
                new_ids.append(accepted.webhook_event_id)
    for row_id in new_ids:
        if inline:
            processing.process(row_id)
        else:
            enqueue(inbox.PROCESS_TASK, row_id)
    click.echo(f"fetched {len(events)} event(s); stored {len(new_ids)} new, {len(events) - len(new_ids)} already known")


@bp.cli.command("resync")
def resync() -> None:
    """Re-fetch every live subscription from Stripe and apply what drifted."""
    from membership.billing.subscriptions import resync_all

    click.echo(f"resynced {resync_all()} subscription(s)")


def _product_ids(value: str | None) -> frozenset[str]:
    ids = frozenset(part.strip() for part in (value or "").split(",") if part.strip())
    bad = sorted(i for i in ids if not i.startswith("prod_"))
    if bad:
        raise click.BadParameter(f"not product ids: {', '.join(bad)}", param_hint="--donation-products")
    return ids


@bp.cli.command("adopt")
@click.option("--rps", type=click.FloatRange(min=0.1, max=100), default=DEFAULT_RPS, show_default=True,
              help="Stripe requests per second at most (live mode allows 100).")
@click.option("--donation-products", metavar="PROD,...",
              help="Products whose subscriptions are recurring donations (else their metadata decides).")
def adopt(rps: float, donation_products: str | None) -> None:
    """Read the whole Stripe account and make local state equal to it (resumable)."""
    ids = _product_ids(donation_products)
    bars: dict[str, Any] = {}

    def progress(resource: str, seen: int) -> None:
        bar = bars.get(resource)
        if bar is None:
            for done in bars.values():
                done.render_finish()
            bar = bars[resource] = click.progressbar(length=None, label=f"{resource:<20}", show_pos=True)
        bar.update(seen - bar.pos)

    summary = adopt_account(rps=rps, donation_products=ids, progress=progress if sys.stdout.isatty() else None)
    for bar in bars.values():
        bar.render_finish()
    for line in summary.lines():
        click.echo(line)
