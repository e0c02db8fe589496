"""One console form POST, the way every page with actions runs it (Members, Catalogue,
a campaign's page): the action in one unit of work, then its message flashed and a 303
back; a refusal (bad input, a state that moved on, Stripe saying no) shows the page
again with the message and changes nothing. A missing thing stays the console's 404
page, and a failure upstream (a 5xx from a service) is shown as a 502.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect
from werkzeug.wrappers import Response

from membership.errors import DomainError, NotFound
from membership.unit_of_work import unit_of_work


def act(action: Callable[[], str], again: Callable[[str, int], tuple[str, int]],
        back_to: str) -> Response | tuple[str, int]:
    """Run `action` (it returns what to tell staff); on a refusal, `again(detail, status)`."""
    try:
        with unit_of_work():
            done = action()
    except NotFound:
        raise
    except DomainError as exc:
        return again(exc.detail, exc.status if exc.status < 500 else 502)
    flash(done)
    return redirect(back_to, 303)
