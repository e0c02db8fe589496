"""The two links identity mails: confirm an address, sign in. Rows first (notices),
mail second, the token only ever stored hashed."""

from __future__ import annotations

from flask import current_app

from membership.identity.models import Reader, TokenPurpose
from membership.identity.tokens import hash_token, issue_token
from membership.mail.notices import record_notice


def public_link(path: str) -> str:
    return current_app.config["SETTINGS"].public_url.rstrip("/") + path


def send_confirmation(reader: Reader) -> None:
    token = issue_token(reader, TokenPurpose.CONFIRM)
    record_notice("confirm_signup", hash_token(token), reader.email, {"link": public_link(f"/confirm/{token}")},
                  reader_id=reader.id)


def send_sign_in_link(reader: Reader) -> None:
    token = issue_token(reader, TokenPurpose.SIGN_IN)
    record_notice("magic_link", hash_token(token), reader.email, {"link": public_link(f"/signin/{token}")},
                  reader_id=reader.id)
