"""Languages for everything a reader reads: pages and mail.

- Catalogs are gettext `.po` files, one per package that has reader-facing text
  (`membership/<package>/translations/<lang>/LC_MESSAGES/messages.po`). They are read as
  they are, once per process: no compiled `.mo` files to forget to rebuild, and a
  translator's edit is the whole change. Adding a language (Russian is next) is a new
  folder of `.po` files and a line in LANGUAGES.
- The language of a request: `?lang=` (remembered in a cookie), then the cookie, then
  the signed-in reader's stored language (identity sets `g.reader_language`), then the
  browser's Accept-Language, then English.
- Mail uses the reader's stored language (`in_language`), whatever page sent it.
- Money, dates and numbers are formatted by Babel (CLDR) for the chosen locale.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel, Domain, force_locale, format_date, get_locale, gettext

from membership.money import from_minor, normalize_currency

LANGUAGES: dict[str, str] = {"en": "English", "hy": "Հայերեն"}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
PACKAGE_ROOT = Path(__file__).resolve().parent


def catalog_files(language: str) -> list[Path]:
    """Every package's catalog for `language`, in a stable order."""
    return sorted(PACKAGE_ROOT.glob(f"*/translations/{language}/LC_MESSAGES/messages.po"))


@lru_cache(maxsize=len(LANGUAGES) + 1)
def translations_for(language: str) -> NullTranslations:
    """All catalogs of one language merged, parsed from `.po` once per process.
    Fuzzy entries are skipped, as gettext does: an unreviewed guess is not shown."""
    merged: NullTranslations | None = None
    for path in catalog_files(language):
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        loaded = Translations(fp=buffer)
        if merged is None:
            merged = loaded
        else:
            assert isinstance(merged, Translations)
            merged.merge(loaded)
    return merged if merged is not None else NullTranslations()


class CatalogDomain(Domain):
    """Flask-Babel's domain, reading our `.po` catalogs instead of compiled `.mo` files."""

    def get_translations(self) -> NullTranslations:
        locale = get_locale()
        if locale is None:
            return NullTranslations()
        return translations_for(normalize_language(str(locale)) or DEFAULT_LANGUAGE)


def normalize_language(value: str | None) -> str | None:
    """'hy', 'hy-AM', 'HY_am' -> 'hy'; anything we do not offer -> None."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def select_language() -> str:
    """The request's language, in the order the module docstring gives."""
    if not has_request_context():
        return str(getattr(g, "mail_language", None) or DEFAULT_LANGUAGE)
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE),
                      getattr(g, "reader_language", None)):
        chosen = normalize_language(candidate)
        if chosen:
            return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return (normalize_language(str(locale)) if locale is not None else None) or DEFAULT_LANGUAGE


@contextmanager
def in_language(language: str | None) -> Iterator[str]:
    """Render mail (or anything) in a reader's stored language, whatever the request's."""
    chosen = normalize_language(language) or DEFAULT_LANGUAGE
    with force_locale(chosen):
        yield chosen


def money(amount_minor: int, currency: str) -> str:
    """1250 USD -> '$12.50' in English, '12,50 $' in Armenian: CLDR's pattern and digits
    for the locale (they agree with Stripe's minor units for every currency we accept)."""
    code = normalize_currency(currency)
    return str(format_currency(from_minor(amount_minor, code), code, locale=get_locale() or DEFAULT_LANGUAGE))


def number(value: int | Decimal) -> str:
    return str(format_decimal(value, locale=get_locale() or DEFAULT_LANGUAGE))


def day(value: date | datetime | None) -> str:
    """A date as a reader writes it: '4 December 2026' / '4 դեկտեմբերի, 2026 թ.'."""
    if value is None:
        return ""
    return str(format_date(value, format="long"))


def named(name: str | None) -> str:
    """A name that is data (a tier, a newsletter) in the reader's language when a catalog
    translates it, else as the newsroom wrote it. Names are listed for translation in
    `membership/readers/catalogue_names.py`; an untranslated name is never an error."""
    if not name:
        return name or ""
    return str(gettext(name))


def _remember_choice(response: Response) -> Response:
    chosen = normalize_language(request.args.get("lang"))
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax",
                            secure=request.is_secure, httponly=True)
    return response


def _template_context() -> dict[str, Any]:
    return {"languages": LANGUAGES, "current_language": current_language()}


def init_i18n(app: Flask) -> None:
    babel = Babel(app, locale_selector=select_language)
    babel.domain_instance = CatalogDomain()  # a cached property on Babel: ours replaces the .mo reader
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["named"] = named
    app.context_processor(_template_context)
    app.after_request(_remember_choice)
