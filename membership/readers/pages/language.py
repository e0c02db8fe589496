"""A signed-in reader who switches the pages' language (`?lang=`) gets their mail in it too.

The switch is stored on `Reader.language` once, when it differs from what is stored: a
request without `?lang=` (nearly all of them) costs nothing here, and one with it costs
the session lookup the page makes anyway plus, only on a real change, one UPDATE.
Readers who are not signed in keep the choice in the `lang` cookie (membership/i18n.py),
and a reader created later on such a page takes the page's language at creation
(`identity.models.language_of_the_request`).
"""

from __future__ import annotations

from flask import request

from membership.i18n import normalize_language
from membership.identity.sessions import session_reader
from membership.readers.pages.blueprint import bp
from membership.unit_of_work import unit_of_work


@bp.before_request
def _store_language_switch() -> None:
    chosen = normalize_language(request.args.get("lang"))
    if chosen is None:
        return
    reader = session_reader()
    if reader is None or reader.language == chosen:
        return
    with unit_of_work():
        reader.language = chosen
