"""Operator commands: `flask apikeys ...` and `flask webhooks-out ...`.

Secrets (an API key, an endpoint's `whsec_` secret) are printed once, at creation, and
stored only hashed or sealed. A refused command is one line and exit 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from flask import Blueprint

from membership.errors import DomainError
from membership.integrations import apikeys, endpoints, tokens
from membership.integrations.outbox import EVENT_TYPES
from membership.integrations.scopes import SCOPES
from membership.unit_of_work import unit_of_work

T = TypeVar("T")
ACTOR = "cli"
keys_bp = Blueprint("apikeys_cli", __name__, cli_group="apikeys")
hooks_bp = Blueprint("webhooks_out_cli", __name__, cli_group="webhooks-out")


def _run(action: Callable[[], T]) -> T:
    """Run and commit, or roll back and print the refusal as one line."""
    try:
        with unit_of_work():
            return action()
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None


@keys_bp.cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(sorted(SCOPES)),
              help="Repeat for several: entitlements:read, members:read.")
def create_key(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key and print it once."""
    row, key = _run(lambda: apikeys.create_key(name, list(scopes), ACTOR))
    click.echo(f"created API key {row.name} ({', '.join(row.scopes)}); key (shown once): {key}")


@keys_bp.cli.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke an API key by name now."""
    row = _run(lambda: apikeys.revoke_key(name, ACTOR))
    click.echo(f"revoked API key {row.name}")


@keys_bp.cli.command("list")
def list_keys() -> None:
    """Every key: name, prefix, scopes, last use, revoked."""
    for row in apikeys.list_keys():
        state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "live"
        used = row.last_used_at.isoformat() if row.last_used_at else "never"
        click.echo(f"{row.name}\t{row.prefix}...\t{','.join(row.scopes)}\tlast used {used}\t{state}")


@keys_bp.cli.command("rotate-signing-key")
def rotate_signing_key() -> None:
    """New entitlement-token signing key; the old stays in the JWKS until its tokens expire."""
    fresh, retired = _run(lambda: tokens.rotate(ACTOR))
    click.echo(f"signing with {fresh.kid} from now on; still published until their tokens expire: "
               f"{', '.join(retired) or 'none'}")


@hooks_bp.cli.command("add")
@click.argument("url")
@click.option("--events", required=True, help="Comma-separated: " + ", ".join(EVENT_TYPES))
@click.option("--scope", "scopes", multiple=True, type=click.Choice(sorted(SCOPES)),
              help="members:read adds the reader's email and name to payloads.")
@click.option("--description", default="")
def add_endpoint(url: str, events: str, scopes: tuple[str, ...], description: str) -> None:
    """Add an endpoint and print its signing secret once."""
    types = [t.strip() for t in events.split(",") if t.strip()]
    row, secret = _run(lambda: endpoints.add_endpoint(url, types, ACTOR, list(scopes), description))
    click.echo(f"added endpoint {row.id} {row.url} for {', '.join(row.event_types)}; "
               f"signing secret (shown once): {secret}")


@hooks_bp.cli.command("list")
def list_endpoints() -> None:
    """Every endpoint, its events and whether it is enabled."""
    for row in endpoints.list_endpoints():
        state = f"disabled ({row.disabled_reason})" if row.disabled_at else "enabled"
        click.echo(f"{row.id}\t{row.url}\t{','.join(row.event_types)}\t{state}")


@hooks_bp.cli.command("disable")
@click.argument("endpoint_id", type=int)
def disable_endpoint(endpoint_id: int) -> None:
    """Stop delivering to an endpoint (its pending deliveries wait)."""
    _run(lambda: endpoints.update_endpoint(endpoint_id, ACTOR, enabled=False))
    click.echo(f"endpoint {endpoint_id} disabled")


@hooks_bp.cli.command("enable")
@click.argument("endpoint_id", type=int)
def enable_endpoint(endpoint_id: int) -> None:
    """Deliver again, starting with what waited."""
    _run(lambda: endpoints.update_endpoint(endpoint_id, ACTOR, enabled=True))
    click.echo(f"endpoint {endpoint_id} enabled")


@hooks_bp.cli.command("replay")
@click.argument("endpoint_id", type=int)
@click.argument("delivery_id", type=int, required=False)
@click.option("--failed", is_flag=True, help="Every given-up delivery of the endpoint.")
def replay(endpoint_id: int, delivery_id: int | None, failed: bool) -> None:
    """Send one delivery (or with --failed every given-up one) again now."""
    if failed == (delivery_id is not None):
        raise click.UsageError("give a DELIVERY_ID or --failed")
    if delivery_id is not None:
        _run(lambda: endpoints.replay(endpoint_id, delivery_id, ACTOR))
        click.echo(f"delivery {delivery_id} queued again")
    else:
        count = _run(lambda: endpoints.replay_failed(endpoint_id, ACTOR))
        click.echo(f"{count} delivery(ies) queued again")
