"""Building one MIME message: the headers every mail needs and Python does not add.

`EmailMessage` sets neither `Date` nor `Message-ID`; bulk-sender rules want both, and
a deterministic Message-ID (derived from what the mail is about) lets a mail client fold
the one duplicate a crash between the 250 reply and the commit can cause.
"""

from __future__ import annotations

import email.policy
import hashlib
import ipaddress
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import lru_cache
from urllib.parse import urlparse

import css_inline
from flask import current_app, has_app_context

from membership.config import Settings
from membership.db import utcnow

_FALLBACK_DOMAIN = "localhost.localdomain"


def _settings() -> Settings:
    if has_app_context():
        settings: Settings = current_app.config["SETTINGS"]
        return settings
    return Settings()


def _is_public_hostname(host: str) -> bool:
    """An IP literal or `localhost` says nothing about the sender; a real name does."""
    if not host or host == "localhost" or "." not in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


def message_domain(settings: Settings | None = None) -> str:
    """The right-hand side of our Message-IDs: PUBLIC_URL's host, else MAIL_FROM's domain."""
    s = settings or _settings()
    host = (urlparse(s.public_url).hostname or "").lower()
    if _is_public_hostname(host):
        return host
    _, _, domain = s.mail_from.rpartition("@")
    return domain.lower() or _FALLBACK_DOMAIN


def message_id_for(kind: str, key: str) -> str:
    """`<kind.sha256(key)[:24]@domain>`: the same (kind, key) always yields the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    safe_kind = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in kind) or "mail"
    return f"<{safe_kind}.{digest}@{message_domain()}>"


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    """One inliner (parsing options once); no remote stylesheets are ever fetched."""
    return css_inline.CSSInliner(load_remote_stylesheets=False)


def inline_html(html: str) -> str:
    """Move <style> rules into style="" attributes (most mail clients drop <style>)."""
    return str(_inliner().inline(html))


def _one_line(value: str) -> str:
    """Header values may not carry line breaks (header injection); fold them to spaces."""
    return " ".join(value.split())


def build_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str,
    from_addr: str | None = None,
    headers: dict[str, str] | None = None,
    inline_css: bool = True,
) -> EmailMessage:
    """A text (+ HTML alternative) message with Date, Message-ID and the outlet as From.

    `from_addr` overrides MAIL_FROM's address; the display name is always the outlet's.
    HTML is CSS-inlined because most mail clients drop <style> blocks.
    """
    settings = _settings()
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = formataddr((settings.outlet_name, from_addr or settings.mail_from))
    msg["To"] = _one_line(to)
    msg["Subject"] = _one_line(subject)
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = _one_line(value)
    msg.set_content(text)
    if html is not None:
        body = inline_html(html) if inline_css else html
        msg.add_alternative(body, subtype="html")
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    """Wire form for SMTP: CRLF line endings (`policy=email.policy.SMTP`)."""
    return msg.as_bytes(policy=email.policy.SMTP)
