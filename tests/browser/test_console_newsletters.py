"""Newsletters in a real browser: an editor composes a campaign in Markdown (the preview
follows the typing, the count follows the segment), sends a test that arrives in the
SMTP sink, schedules it now and watches the progress bar move while a real worker sends
to 3,000 readers through the sink; then the results and the list. axe on every page;
screenshots under var/screenshots/console-newsletters*.png and console-campaign-*.png."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.newsletters.models import Campaign, CampaignStatus, Newsletter
from tests.browser.harness import Site, assert_accessible, shoot
from tests.conftest import worker_env
from tests.console.helpers import sign_in_browser, staff_user
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter
from tests.support.worker import WorkerProcess

pytestmark = pytest.mark.browser
READERS = 3000
SUBJECT = "Weekend Reads #1"
EDITOR = "editor@staff.example"
# 3,000 messages at 250/s: about 12 s of sending, so a once-a-second poll sees the bar move.
SEND_RATE = {"NEWSLETTER_SEND_RATE": "250", "NEWSLETTER_SEND_BURST": "25"}


def _look(page: Any, name: str) -> None:
    assert_accessible(page, name)
    shoot(page, name)


def _bar(page: Any) -> tuple[float, float] | None:
    """(value, max) of the progress bar now; None while there is none (or mid-reload)."""
    try:
        found = page.evaluate("() => { const p = document.getElementById('campaign-progress');"
                              " return p ? [p.value, p.max] : null; }")
    except Exception:  # the page is reloading: its context went away
        return None
    return (float(found[0]), float(found[1])) if found else None


def _campaign_mails(site: Site) -> int:
    with site.mailbox.lock:
        return sum(1 for m in site.mailbox.messages if f"Subject: {SUBJECT}".encode() in m.data)


@pytest.fixture
def newsletter_worker(site: Site, app_settings: dict[str, Any], tmp_path: Any) -> Any:
    """The live site's worker takes default, webhooks and mail; newsletter tasks are
    routed to their own queue (membership/queue.py), so this test starts a worker for
    it, with a send rate slow enough to watch."""
    env = {**worker_env({**app_settings, "public_url": site.url}), **SEND_RATE}
    worker = WorkerProcess(env, queues="newsletters", concurrency=2, log_path=tmp_path / "worker.log").start()
    yield worker
    worker.stop()


def test_an_editor_composes_tests_schedules_and_watches_a_campaign(
        site: Site, page: Any, browser: Any, newsletter_worker: Any) -> None:
    newsletter = make_newsletter("weekend", "Weekend Reads")
    add_readers(newsletter.id, READERS)
    db.session.commit()
    sign_in_browser(page, site, staff_user(StaffRole.EDITOR, EDITOR))

    page.goto("/staff")
    page.wait_for_url("**/staff/newsletters")
    page.get_by_role("heading", name="Weekend Reads").wait_for()
    page.get_by_role("link", name="New campaign", exact=True).click()
    page.get_by_role("heading", name="New campaign").wait_for()
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("Body (Markdown)").fill("## Long reads for the weekend\n\nThree stories, **no paywall**:\n\n"
                                              "- The river\n- The mayor\n- [The market](https://example.org/m)\n")
    page.locator("#preview h2", has_text="Long reads for the weekend").wait_for()
    page.locator("#preview strong", has_text="no paywall").wait_for()
    page.locator("#preview-subject", has_text=SUBJECT).wait_for()
    page.locator("#recipient-count", has_text="3,000 confirmed subscribers").wait_for()
    page.get_by_label("Segment").select_option("label")
    assert page.get_by_label("Reader label").is_visible() and not page.get_by_label("Tier").is_visible()
    page.locator("#recipient-count", has_text="Type the label").wait_for()
    page.get_by_label("Segment").select_option("all_confirmed")
    page.locator("#recipient-count", has_text="3,000 confirmed subscribers").wait_for()
    _look(page, "console-campaign-compose")

    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved").wait_for()
    assert page.get_by_label("Send a test to").input_value() == EDITOR
    page.get_by_role("button", name="Send test").click()
    page.get_by_text(f"Test sent to {EDITOR}").wait_for()
    test = site.wait_for_mail(EDITOR, "[Test] " + SUBJECT, timeout=20)
    assert "no paywall" in test.get_body(("html",)).get_content()  # type: ignore[union-attr]
    campaign = db.session.scalars(select(Campaign)).one()
    db.session.rollback()

    page.get_by_label("Send now").check()
    page.get_by_role("button", name="Schedule").click()
    page.get_by_text("Sending has started").wait_for()
    started = time.monotonic()
    between, last = None, None
    while time.monotonic() - started < 60:
        last = _bar(page)
        if last and last[1] == READERS and 0 < last[0] < READERS and between is None:
            between = last
            _look(page, "console-campaign-sending")
        if page.get_by_role("heading", name="Results").count():
            break
        time.sleep(0.2)
    assert between is not None, f"the bar was never seen between 0 and {READERS} (last {last})"
    page.get_by_role("heading", name="Results").wait_for(timeout=30_000)
    assert _bar(page) == (READERS, READERS)
    assert page.locator("#count-sent").inner_text() == "3,000"
    assert page.locator("#count-failed").inner_text() == "0"
    assert page.locator("#campaign-status").inner_text() == "sent"
    _look(page, "console-campaign-results")
    assert _campaign_mails(site) == READERS
    assert len(site.mails_to(EDITOR)) == 1  # the test only; the editor is no subscriber

    page.get_by_role("link", name="← Newsletters").click()
    row = page.get_by_role("row").filter(has_text=SUBJECT)
    row.get_by_text("3,000 of 3,000").wait_for()
    _look(page, "console-newsletters")

    phone = browser.new_context(base_url=site.url, viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True)
    sign_in_browser(phone, site, staff_user(StaffRole.EDITOR, "desk.editor@staff.example"))
    small = phone.new_page()
    small.goto(f"/staff/newsletters/campaigns/{campaign.id}")
    small.get_by_role("heading", name="Results").wait_for()
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing runs off the side
    _look(small, "console-campaign-phone")
    small.goto("/staff/newsletters/campaigns/new")
    small.locator("#recipient-count", has_text="3,000 confirmed subscribers").wait_for()
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 390
    _look(small, "console-campaign-compose-phone")
    phone.close()


def test_an_editor_creates_a_newsletter_and_confirms_a_cancel(site: Site, page: Any) -> None:
    """No worker needed: the new-newsletter form, then a scheduled campaign cancelled
    through its confirmation page (which names how many readers it will not reach)."""
    sign_in_browser(page, site, staff_user(StaffRole.EDITOR, "desk@staff.example"))
    page.goto("/staff/newsletters")
    if page.locator("details.new-newsletter[open]").count() == 0:  # open already when there is none
        page.get_by_text("New newsletter", exact=True).click()
    page.get_by_label("Name").fill("Morning Edition")
    page.get_by_label("Slug").fill("Morning Edition")  # not a slug: the form says so
    page.get_by_role("button", name="Create newsletter").click()
    page.get_by_text("A slug is up to 64 lower-case letters").first.wait_for()
    _look(page, "console-newsletter-new-error")
    page.get_by_label("Slug").fill("")  # made from the name
    page.get_by_role("button", name="Create newsletter").click()
    page.get_by_text("Newsletter “Morning Edition” created").wait_for()
    page.get_by_text("morning-edition").wait_for()
    _look(page, "console-newsletter-created")

    newsletter = db.session.scalars(select(Newsletter).where(Newsletter.slug == "morning-edition")).one()
    add_readers(newsletter.id, 12, prefix="m")
    campaign = make_campaign(newsletter.id, status=CampaignStatus.SCHEDULED, subject="Tomorrow's brief",
                             scheduled_at=utcnow() + timedelta(days=1))
    db.session.commit()
    page.goto(f"/staff/newsletters/campaigns/{campaign.id}")
    page.get_by_role("link", name="Cancel campaign…").click()
    page.get_by_role("heading", name="Cancel “Tomorrow's brief”?").wait_for()
    assert "12 confirmed subscribers" in page.locator("#cancel-counts").inner_text()
    _look(page, "console-campaign-cancel-confirm")
    page.get_by_role("button", name="Yes, cancel the campaign").click()
    page.get_by_text("Cancelled. Messages not yet sent will not be sent.").wait_for()
    assert page.locator("#campaign-status").inner_text() == "cancelled"
