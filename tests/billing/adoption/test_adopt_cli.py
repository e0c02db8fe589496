"""The command's contract at its edges: bad options are refused before anything happens,
and the pacer really spaces requests."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import func, select

from membership.billing.adoption.models import AdoptionRun
from membership.billing.gateway.client import paced
from membership.extensions import db
from tests.billing.adoption.account import Account


def test_bad_options_are_refused_and_change_nothing(adopt_app: Flask, fresh_db: Account) -> None:
    runner = adopt_app.test_cli_runner()
    bad_product = runner.invoke(args=["stripe", "adopt", "--donation-products", "price_1,prod_ok"])
    assert bad_product.exit_code == 2 and "not product ids: price_1" in bad_product.output
    too_fast = runner.invoke(args=["stripe", "adopt", "--rps", "500"])
    assert too_fast.exit_code == 2 and "--rps" in too_fast.output
    assert db.session.scalar(select(func.count()).select_from(AdoptionRun)) == 0


def test_the_pacer_spaces_requests() -> None:
    with paced(20) as pacer:
        started = time.monotonic()
        for _ in range(6):
            pacer.wait()
        elapsed = time.monotonic() - started
    assert pacer.requests == 6
    assert elapsed >= 5 / 20 - 0.01  # the first goes at once, each next 50 ms later
