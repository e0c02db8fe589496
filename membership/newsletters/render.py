"""Rendering a campaign once per chunk and stamping each recipient's copy from it.

Building a MIME message costs about as much as sending it, so the per-chunk renderer
builds ONE message (Jinja layout, CSS inlined, the shared mail layer's headers) with
placeholders for the three things that differ per reader (To, Message-ID, the
unsubscribe token), serialises it, and cuts the bytes into static pieces and slots.
Each reader's copy is then one `b"".join`. Unsubscribe tokens all have the same
length and only quoted-printable-literal characters, so a soft line break that
quoted-printable put inside the placeholder falls at the same place in the real token
and is reproduced there. When a placeholder is not found (say a base64 body, or a
reader address that needs header encoding), that message is built the slow, ordinary
way instead: never a wrong message, only a slower one.

Serialisation folds headers only past 998 characters (RFC 5322's hard limit): folding
at 78 would turn a long `List-Unsubscribe` URL into RFC 2047 encoded-words, which
mail providers do not decode in that header.
"""

from __future__ import annotations

import email.policy
import html as html_lib
import re
from dataclasses import dataclass

import css_inline
from flask import current_app, render_template

from membership.mail.message import build_message, message_id_for
from membership.newsletters.models import Campaign, Newsletter
from membership.newsletters.sanitise import sanitise_html
from membership.newsletters.unsubscribe import TOKEN_LENGTH, make_token, unsubscribe_url

PLACE_TOKEN = ("Zq7unsubscribeTokenPlaceholder" + "0" * TOKEN_LENGTH)[:TOKEN_LENGTH]
PLACE_TO = "zq7-recipient-placeholder@placeholder.invalid"
PLACE_MID = "<zq7-message-id-placeholder@placeholder.invalid>"
_SIMPLE_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)
_TAGS = re.compile(r"<[^>]+>")
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)


def list_id(newsletter: Newsletter) -> str:
    from membership.mail.message import message_domain

    name = newsletter.name.replace("<", "").replace(">", "").replace('"', "")
    return f"{name} <{newsletter.slug}.{message_domain()}>"


def delivery_message_id(campaign_id: int, reader_id: int) -> str:
    """Deterministic per (campaign, reader): a crash duplicate carries the same id."""
    return message_id_for("newsletter", f"{campaign_id}:{reader_id}")


def _text_from_html(body_html: str) -> str:
    return html_lib.unescape(_TAGS.sub("", body_html)).strip()


@dataclass
class CampaignRenderer:
    campaign_id: int
    newsletter_id: int
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    template: list[bytes | tuple[str, tuple[int, ...]]] | None

    @classmethod
    def build(cls, campaign: Campaign, newsletter: Newsletter) -> CampaignRenderer:
        settings = current_app.config["SETTINGS"]
        url = unsubscribe_url(PLACE_TOKEN)
        # Stored bodies are sanitised already (campaigns.py); once more per chunk for a
        # campaign stored before that, so no reader is ever mailed unsanitised HTML.
        body_html = sanitise_html(campaign.body_html)
        context = {
            "subject": campaign.subject, "newsletter_name": newsletter.name, "outlet_name": settings.outlet_name,
            "postal_address": settings.outlet_postal_address, "unsubscribe_url": url,
            "body_html": body_html, "body_text": campaign.body_text or _text_from_html(body_html),
        }
        html = _INLINER.inline(render_template("newsletters/campaign.html", **context))
        html = html.replace(f'href="{url}"', f'\nhref="{url}"\n')  # a short line: QP never splits it
        text = render_template("newsletters/campaign.txt", **context)
        headers = {
            "List-Id": list_id(newsletter),
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        }
        renderer = cls(campaign.id, newsletter.id, campaign.subject, text, html, headers, None)
        renderer.template = renderer._template_bytes()
        return renderer

    def _build(self, to: str, message_id: str, token: str) -> bytes:
        url = unsubscribe_url(PLACE_TOKEN)
        real = unsubscribe_url(token)
        headers = {k: v.replace(url, real) for k, v in self.headers.items()}
        msg = build_message(to=to, subject=self.subject, text=self.text.replace(url, real),
                            html=self.html.replace(url, real), message_id=message_id, headers=headers,
                            inline_css=False)
        return msg.as_bytes(policy=WIRE_POLICY)

    def single(self, to: str, message_id: str, token: str) -> bytes:
        """One copy built the ordinary way under the caller's own Message-ID (a test send,
        which must not share the deterministic id of a real delivery)."""
        return self._build(to, message_id, token)

    def _template_bytes(self) -> list[bytes | tuple[str, tuple[int, ...]]] | None:
        return cut_template(self._build(PLACE_TO, PLACE_MID, PLACE_TOKEN))

    def render(self, reader_id: int, email: str) -> tuple[bytes, str]:
        """(wire bytes, Message-ID) of one reader's copy."""
        message_id = delivery_message_id(self.campaign_id, reader_id)
        token = make_token(reader_id, self.newsletter_id)
        if self.template is not None and _SIMPLE_ADDRESS.match(email):
            values = {"token": token.encode(), "to": email.encode(), "mid": message_id.encode()}
            out: list[bytes] = []
            for piece in self.template:
                if isinstance(piece, bytes):
                    out.append(piece)
                else:
                    out.append(_with_breaks(values[piece[0]], piece[1]))
            return b"".join(out), message_id
        return self._build(email, message_id, token), message_id


_SOFT_BREAK = b"=\r\n"
_SLOTS = re.compile(
    b"(?P<token>" + b"(?:=\r\n)?".join(re.escape(bytes([c])) for c in PLACE_TOKEN.encode()) + b")"
    b"|(?P<to>" + re.escape(PLACE_TO.encode()) + b")|(?P<mid>" + re.escape(PLACE_MID.encode()) + b")"
)
_EXPECTED = {"token": 3, "to": 1, "mid": 1}  # List-Unsubscribe + text + html; To; Message-ID


def cut_template(data: bytes) -> list[bytes | tuple[str, tuple[int, ...]]] | None:
    """Static pieces and (slot, soft-break offsets) in order; None if a slot is missing."""
    pieces: list[bytes | tuple[str, tuple[int, ...]]] = []
    counts = dict.fromkeys(_EXPECTED, 0)
    last = 0
    for match in _SLOTS.finditer(data):
        kind = str(match.lastgroup)
        counts[kind] += 1
        pieces.append(data[last:match.start()])
        pieces.append((kind, _break_offsets(match.group(0)) if kind == "token" else ()))
        last = match.end()
    pieces.append(data[last:])
    return pieces if counts == _EXPECTED else None


def _break_offsets(found: bytes) -> tuple[int, ...]:
    """Where (in token characters) quoted-printable inserted soft line breaks."""
    offsets, chars = [], 0
    for i, chunk in enumerate(found.split(_SOFT_BREAK)):
        if i:
            offsets.append(chars)
        chars += len(chunk)
    return tuple(offsets)


def _with_breaks(value: bytes, offsets: tuple[int, ...]) -> bytes:
    if not offsets:
        return value
    parts, prev = [], 0
    for at in offsets:
        parts.append(value[prev:at])
        prev = at
    parts.append(value[prev:])
    return _SOFT_BREAK.join(parts)
