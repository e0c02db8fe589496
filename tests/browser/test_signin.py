"""A reader signs in from the mail the SMTP sink caught, in English and in Armenian."""

from __future__ import annotations

from typing import Any

import pytest

from membership.db import utcnow
from membership.extensions import db
from membership.identity.models import Reader
from tests.browser.harness import Site, assert_accessible, shoot

pytestmark = pytest.mark.browser


def _reader(email: str, language: str = "en") -> Reader:
    reader = Reader(email=email, name="Ani Petrosyan", email_verified_at=utcnow(), language=language)
    db.session.add(reader)
    db.session.commit()
    return reader


def test_sign_in_from_the_mail(site: Site, page: Any) -> None:
    _reader("ani@example.org")
    page.goto("/signin")
    assert_accessible(page, "signin")
    shoot(page, "signin")
    page.get_by_label("Email").fill("ani@example.org")
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    link = site.link_in(site.wait_for_mail("ani@example.org"), "/signin/")
    page.goto(link)
    page.get_by_role("button", name="Sign me in").click()
    page.wait_for_url("**/account")
    page.get_by_role("heading", name="Your account").wait_for()
    shoot(page, "account-signed-in")


def test_the_sign_in_page_in_armenian(site: Site, page: Any) -> None:
    page.goto("/signin?lang=hy")
    assert page.locator("html").get_attribute("lang") == "hy"
    assert page.get_by_role("link", name="Ձեր հաշիվը").count() + page.get_by_role("link", name="Մուտք").count() >= 1
    shoot(page, "signin-hy")
    page.goto("/signin")  # the choice is remembered
    assert page.locator("html").get_attribute("lang") == "hy"
    assert_accessible(page, "signin-hy")
