"""What browser tests share: Debian's Chromium driven by Playwright for Python, the
site under test on a real HTTP server (its PUBLIC_URL is its own address, so Stripe's
hosted pages send the browser back to it), a real Celery worker, the SMTP sink,
screenshots and the axe-core accessibility check.

Playwright's own browser download cannot work on these machines, so the browser is
Debian's `chromium` (`make browser` installs it, and axe-core from npm); the flags are
the ones this machine's closed network needs (no background networking).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from membership.mail.sink import MemorySink
from tests.support.worker import wait_until

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage"]
SERIOUS = {"serious", "critical"}
LINK = re.compile(r"https?://[^\s\"'<>]+")


def require_browser_tools() -> None:
    """Under CI a missing browser or axe-core is a failure, not a skip."""
    missing = [str(p) for p in (CHROMIUM, AXE) if not p.exists()]
    if missing:
        reason = f"browser tests need {', '.join(missing)}: run `make browser`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class Site:
    """The site under test: its base URL, its Flask app and the mail it sent."""

    url: str
    app: Flask
    mailbox: MemorySink

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        with self.mailbox.lock:
            raw = [m.data for m in self.mailbox.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]
        return [email.message_from_bytes(data, policy=email.policy.default) for data in raw]  # type: ignore[misc]

    def wait_for_mail(self, address: str, subject_contains: str = "", timeout: float = 60) -> email.message.EmailMessage:
        """The newest mail to `address` whose subject contains the text (bounded wait)."""
        found: list[email.message.EmailMessage] = []

        def arrived() -> bool:
            found[:] = [m for m in self.mails_to(address) if subject_contains in str(m["Subject"])]
            return bool(found)

        assert wait_until(arrived, timeout=timeout), f"no mail to {address} with {subject_contains!r}"
        return found[-1]

    def link_in(self, message: email.message.EmailMessage, path_part: str) -> str:
        """The first link in the mail's text whose URL contains `path_part`."""
        body = message.get_body(preferencelist=("plain", "html"))
        assert body is not None
        for url in LINK.findall(body.get_content()):
            if path_part in url:
                return url.rstrip(".,)")
        raise AssertionError(f"no link containing {path_part!r} in {message['Subject']!r}")


def shoot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/<name>.png (look at them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Any, name: str = "") -> None:
    """axe-core (WCAG 2.1 A and AA rules) finds no serious or critical violation.

    axe is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the page under test keeps its real policy."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await window.axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    serious = [v for v in result if v["impact"] in SERIOUS]
    assert not serious, f"accessibility violations on {name or page.url}: {serious}"
