"""Token paths kept out of access logs.

Why: sign-in (`/signin/<token>`), confirmation (`/confirm/<token>`) and unsubscribe
(`/u/<token>`) links carry their secret in the path, and access logs are read by more
people and kept longer than the database (shipped to log stores, pasted into tickets).
A sign-in token there is a working login for 15 minutes. So every string an access-log
line is built from (request line, path, Referer: the button page posts back to its own
URL, any header or environ value) has those segments replaced by `<redacted>` before it
is formatted.

Used by gunicorn (`logger_class` in gunicorn.conf.py) and, as a logging filter, by the
development server's `werkzeug` logger (`install`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

REDACTED = "<redacted>"
# A token segment right after one of the link prefixes, at the start of a path: after
# the start of the text, a space or quote (request line) or a scheme's host (Referer).
_TOKEN_PATH = re.compile(r"""((?:^|[\s"'(]|//[^/\s"']+)/(?:signin|confirm|u)/)[^/?#\s"']+""")


def scrub(text: str) -> str:
    """The text with every token path segment replaced by `<redacted>`."""
    if "/" not in text:
        return text
    return _TOKEN_PATH.sub(lambda m: m.group(1) + REDACTED, text)


def _scrub_value(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


class ScrubbingLogger(Logger):
    """gunicorn's logger with the access-log atoms scrubbed (gunicorn.conf.py)."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        return {k: _scrub_value(v) for k, v in super().atoms(resp, req, environ, request_time).items()}


class ScrubFilter(logging.Filter):
    """Scrubs a record's message and arguments (werkzeug's request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _scrub_value(v) for k, v in record.args.items()}
        return True


def install(logger_names: tuple[str, ...] = ("werkzeug", "gunicorn.access")) -> None:
    """Attach the filter once to the loggers that print request lines."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in logger.filters):
            logger.addFilter(ScrubFilter())
