"""One-click unsubscribe (RFC 8058): POST unsubscribes without login; GET changes nothing."""

from __future__ import annotations

from typing import Any

from membership.extensions import db
from membership.newsletters.models import NewsletterSubscription, OptInStatus
from membership.newsletters.unsubscribe import TOKEN_LENGTH, make_token, read_token
from tests.newsletters.conftest import add_readers, make_newsletter


def _setup() -> tuple[int, int, str]:
    newsletter = make_newsletter()
    (reader_id,) = add_readers(newsletter.id, 1)
    db.session.commit()  # (a savepoint here) what a refused request rolls back is its own work only
    return reader_id, newsletter.id, make_token(reader_id, newsletter.id)


def _status(reader_id: int, newsletter_id: int) -> OptInStatus:
    db.session.expire_all()
    sub = db.session.query(NewsletterSubscription).filter_by(reader_id=reader_id, newsletter_id=newsletter_id).one()
    return sub.status


def test_tokens_are_fixed_length_and_tamper_evident(app: Any) -> None:
    with app.app_context():
        token = make_token(42, 7)
        assert len(token) == TOKEN_LENGTH
        assert read_token(token) == (42, 7)
        # Tamper inside the MAC (the last character also carries base64 padding bits that
        # decoding ignores, so changing it alone may decode to the same bytes).
        forged = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
        assert read_token(forged) is None
        assert read_token(make_token(42, 7, secret="another secret")) is None
        assert read_token("short") is None
        assert read_token("!" * TOKEN_LENGTH) is None


def test_get_shows_a_form_and_changes_nothing(client: Any) -> None:
    reader_id, newsletter_id, token = _setup()
    response = client.get(f"/u/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The Daily Brief" in page and 'method="post"' in page
    assert _status(reader_id, newsletter_id) == OptInStatus.CONFIRMED


def test_one_click_post_unsubscribes_without_login_or_redirect(client: Any) -> None:
    reader_id, newsletter_id, token = _setup()
    response = client.post(f"/u/{token}", data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert _status(reader_id, newsletter_id) == OptInStatus.UNSUBSCRIBED
    again = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200  # idempotent


def test_the_page_form_unsubscribes_too(client: Any) -> None:
    reader_id, newsletter_id, token = _setup()
    response = client.post(f"/u/{token}", data={"confirm": "yes"})
    assert response.status_code == 200
    assert "unsubscribed" in response.get_data(as_text=True).lower()
    assert _status(reader_id, newsletter_id) == OptInStatus.UNSUBSCRIBED


def test_invalid_tokens_are_404_and_change_nothing(client: Any) -> None:
    reader_id, newsletter_id, token = _setup()
    bad = token[:-2] + ("xy" if token[-2:] != "xy" else "yz")
    assert client.get(f"/u/{bad}").status_code == 404
    response = client.post(f"/u/{bad}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert _status(reader_id, newsletter_id) == OptInStatus.CONFIRMED
