"""Every reader-facing string has a real translation in every language we offer.

The strings are extracted from the source the way `make translations` does (babel.cfg),
so a page or mail that gains an English sentence fails here until a translator has
written it in every language: untranslated, fuzzy (unreviewed) or copied-English entries
count as missing, and a translation must keep the original's placeholders.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from membership.i18n import LANGUAGES, PACKAGE_ROOT

REPO = PACKAGE_ROOT.parent
PACKAGES = sorted(p.parent.name for p in PACKAGE_ROOT.glob("*/translations"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
ARMENIAN = re.compile(r"[\u0531-\u058F]")
LETTERS = re.compile(r"[A-Za-z]{2,}")


def _source_strings(package: str) -> set[str]:
    with (REPO / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            PACKAGE_ROOT / package, method_map, options_map):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.add(text)
    return found


def _catalog(package: str, language: str) -> dict[str, tuple[str, bool]]:
    path = PACKAGE_ROOT / package / "translations" / language / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{path.relative_to(REPO)} is missing: run `make translations` and translate it"
    with path.open("rb") as po:
        catalog = read_po(po)
    entries: dict[str, tuple[str, bool]] = {}
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid in ids:
            entries[msgid] = (" ".join(s for s in strings if s), m.fuzzy)
    return entries


def test_there_are_catalogs_to_check() -> None:
    assert "readers" in PACKAGES and "mail" in PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_string_is_translated(package: str, language: str) -> None:
    wanted = _source_strings(package)
    catalog = _catalog(package, language)
    problems = []
    for msgid in sorted(wanted):
        translated, fuzzy = catalog.get(msgid, ("", False))
        if not translated or fuzzy:
            problems.append(f"untranslated: {msgid!r}")
            continue
        if {m for m in PLACEHOLDER.findall(msgid)} != {m for m in PLACEHOLDER.findall(translated)}:
            problems.append(f"placeholders differ: {msgid!r} -> {translated!r}")
        if language == "hy" and LETTERS.search(PLACEHOLDER.sub("", msgid)) and not ARMENIAN.search(translated):
            problems.append(f"not Armenian: {msgid!r} -> {translated!r}")
    assert not problems, f"{package}/{language}: {len(problems)} problems\n" + "\n".join(problems[:40])
