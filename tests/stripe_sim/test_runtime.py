"""Running the simulator: persistence, the CLI, loopback-only binding, control endpoints."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import stripe

from stripe_sim import SimServer

from .conftest import DAY, REPO_ROOT, add_months, monthly_price

T0 = 1767225600


def test_state_file_survives_restart(tmp_path: Path, make_client: Callable[[SimServer], stripe.StripeClient]) -> None:
    state = tmp_path / "sim.json"
    first = SimServer(state_file=str(state)).start()
    try:
        client = make_client(first)
        clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
        cus = client.v1.customers.create(params={"email": "keep@example.com", "test_clock": clock.id})
        price = monthly_price(client)
        sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                     "default_payment_method": "pm_card_visa"})
    finally:
        first.stop()
    assert state.exists()
    second = SimServer(state_file=str(state)).start()
    try:
        client = make_client(second)
        assert client.v1.customers.retrieve(cus.id).email == "keep@example.com"
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": add_months(T0, 1) + 60})
        invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
        assert [i.billing_reason for i in invoices] == ["subscription_cycle", "subscription_create"]
    finally:
        second.stop()


def test_binds_loopback_only() -> None:
    with pytest.raises(ValueError):
        SimServer(host="0.0.0.0")


def test_control_endpoints_advance_server_clock(sim: SimServer, http: requests.Session) -> None:
    assert http.get(f"{sim.url}/_sim/health").json()["ok"] is True
    before = sim.now()
    after = http.post(f"{sim.url}/_sim/clock/advance", data={"seconds": str(2 * DAY)}).json()["now"]
    assert after - before >= 2 * DAY and abs(sim.now() - after) <= 2


def test_server_clock_runs_renewals_and_payouts(sim: SimServer, client: stripe.StripeClient) -> None:
    price = monthly_price(client, 1000, interval="day")
    cus = client.v1.customers.create(params={"email": "daily@example.com"})
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_visa"})
    for _ in range(4):
        sim.advance_clock(DAY)
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert len(invoices) == 5 and all(i.status == "paid" for i in invoices)
    assert client.v1.payouts.list().data, "daily payouts on the server clock"


def test_cli_serves_with_demo_catalog(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "stripe_sim", "--port", str(port), "--seed-demo-catalog",
                             "--state-file", str(tmp_path / "s.json")], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        with requests.Session() as http:
            while time.monotonic() < deadline:
                try:
                    if http.get(f"{url}/_sim/health", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.05)
            client = stripe.StripeClient("sk_test_cli", base_addresses={"api": url}, max_network_retries=0,
                                         http_client=stripe.RequestsClient(session=http))
            keys = {p.lookup_key for p in client.v1.prices.list(params={"limit": 10}).data}
            assert keys == {"member_monthly", "member_yearly", "donation_custom"}
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out.decode()
    assert (tmp_path / "s.json").exists()
