"""The reader's card: which one pays, and replacing it through Checkout's setup mode.

We store no card details: the card on file is read from Stripe each time the account
page asks (`card_on_file`). Replacing it opens a hosted setup page (nothing charged);
when the reader comes back, `finish_card_update` reads the session, checks that it
belongs to this reader's customer, and makes the saved card the one that pays the
customer's invoices and every live subscription. Coming back twice is harmless.
"""

from __future__ import annotations

from sqlalchemy import select

from membership.billing.checkout import ensure_customer
from membership.billing.gateway import NotFound as GatewayNotFound
from membership.billing.gateway import idempotency_key
from membership.billing.gateway.card_setup import SavedCard, customer_card, open_card_setup, saved_card, use_card
from membership.billing.gateway.cards import Card, default_card
from membership.billing.models import Subscription
from membership.billing.processor import processor_errors
from membership.db import utcnow
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES
from membership.errors import Conflict, NotFound
from membership.extensions import db
from membership.identity.models import Reader


def _live_subscription_ids(reader: Reader) -> list[str]:
    return list(db.session.scalars(select(Subscription.stripe_subscription_id).where(
        Subscription.reader_id == reader.id, Subscription.status.not_in(TERMINAL_SUBSCRIPTION_STATUSES))
        .order_by(Subscription.id)))


def card_on_file(reader: Reader) -> Card | None:
    """The card that pays next: the first live subscription's, else the customer's default."""
    if not reader.stripe_customer_id:
        return None
    live = _live_subscription_ids(reader)
    with processor_errors():
        card = default_card(live[0]) if live else None
        return card or customer_card(reader.stripe_customer_id)


def start_card_update(reader: Reader, currency: str, return_url: str) -> str:
    """The hosted page's URL; it comes back to `return_url` with `?session_id=`. Flushes."""
    customer = ensure_customer(reader)
    minute = utcnow().strftime("%Y%m%d%H%M")  # a double click reuses the page; a later visit gets a new one
    with processor_errors():
        opened = open_card_setup(customer, currency, f"{return_url}?session_id={{CHECKOUT_SESSION_ID}}",
                                 return_url, idempotency_key("card-setup", customer, currency, minute))
    return opened.url


def finish_card_update(reader: Reader, session_id: str) -> None:
    """Make the card the reader just saved the one that pays (404 for anyone else's session)."""
    with processor_errors():
        try:
            saved: SavedCard | None = saved_card(session_id)
        except GatewayNotFound:  # a made-up id is a 404, not the processor's failure
            saved = None
    if saved is None or not reader.stripe_customer_id or saved.customer_id != reader.stripe_customer_id:
        raise NotFound("No such card update.")
    if saved.status != "succeeded" or saved.payment_method_id is None:
        raise Conflict("The card was not saved.")
    with processor_errors():
        use_card(reader.stripe_customer_id, saved.payment_method_id, _live_subscription_ids(reader))
