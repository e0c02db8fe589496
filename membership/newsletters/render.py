"""Rendering a campaign once per chunk and stamping each recipient's copy from it.

Building a MIME message costs about as much as sending it, so the per-chunk renderer
builds ONE message (Jinja layout, CSS inlined, the shared mail layer's headers) with
placeholders for the three things that differ per reader (To, Message-ID, the
unsubscribe token), serialises it, and makes each reader's bytes with three
`bytes.replace` calls. Unsubscribe tokens all have the same length and the link sits
on a short line of its own, so the body's transfer encoding (7bit or quoted-printable)
keeps each placeholder intact. When a placeholder is not found intact (say a base64
body, or a reader address that needs header encoding), that message is built the
slow, ordinary way instead: never a wrong message, only a slower one.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

import css_inline
from flask import current_app, render_template

from membership.mail.message import build_message, message_id_for, to_bytes
from membership.newsletters.models import Campaign, Newsletter
from membership.newsletters.unsubscribe import TOKEN_LENGTH, make_token, unsubscribe_url

PLACE_TOKEN = ("Zq7unsubscribeTokenPlaceholder" + "0" * TOKEN_LENGTH)[:TOKEN_LENGTH]
PLACE_TO = "zq7-recipient-placeholder@placeholder.invalid"
PLACE_MID = "<zq7-message-id-placeholder@placeholder.invalid>"
_SIMPLE_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)
_TAGS = re.compile(r"<[^>]+>")


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
    template: bytes | None

    @classmethod
    def build(cls, campaign: Campaign, newsletter: Newsletter) -> CampaignRenderer:
        settings = current_app.config["SETTINGS"]
        url = unsubscribe_url(PLACE_TOKEN)
        context = {
            "subject": campaign.subject, "newsletter_name": newsletter.name, "outlet_name": settings.outlet_name,
            "postal_address": settings.outlet_postal_address, "unsubscribe_url": url,
            "body_html": campaign.body_html, "body_text": campaign.body_text or _text_from_html(campaign.body_html),
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
        return to_bytes(msg)

    def _template_bytes(self) -> bytes | None:
        data = self._build(PLACE_TO, PLACE_MID, PLACE_TOKEN)
        token = PLACE_TOKEN.encode()
        intact = data.count(token) == 3 and data.count(PLACE_TO.encode()) == 1 and data.count(PLACE_MID.encode()) == 1
        return data if intact else None

    def render(self, reader_id: int, email: str) -> tuple[bytes, str]:
        """(wire bytes, Message-ID) of one reader's copy."""
        message_id = delivery_message_id(self.campaign_id, reader_id)
        token = make_token(reader_id, self.newsletter_id)
        if self.template is not None and _SIMPLE_ADDRESS.match(email):
            data = (
                self.template.replace(PLACE_TOKEN.encode(), token.encode())
                .replace(PLACE_TO.encode(), email.encode())
                .replace(PLACE_MID.encode(), message_id.encode())
            )
            return data, message_id
        return self._build(email, message_id, token), message_id
