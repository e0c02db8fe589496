"""Consent evidence: what the reader agreed to, the text's version, the price shown, and
the request it came from. Kept at least three years (California's auto-renewal law)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from membership.extensions import db
from membership.identity.models import Consent, ConsentKind, Reader


@dataclass(frozen=True)
class RequestMeta:
    """Evidence about the request kept with a consent row."""

    ip: str | None
    user_agent: str | None


def request_meta() -> RequestMeta:
    """This request's client address (ProxyFix has applied TRUSTED_PROXY_HOPS) and agent."""
    return RequestMeta(ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))


def record_consent(reader: Reader, kind: ConsentKind, version: str, source: str, meta: RequestMeta,
                   price_minor: int | None = None, currency: str | None = None) -> Consent:
    consent = Consent(reader_id=reader.id, kind=kind, text_version=version, source=source[:64],
                      ip=(meta.ip or "")[:64] or None, user_agent=(meta.user_agent or "")[:1000] or None,
                      price_shown_minor=price_minor, price_shown_currency=currency)
    db.session.add(consent)
    db.session.flush()
    return consent
