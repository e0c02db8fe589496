"""``python -m stripe_sim``: run the simulator on loopback until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .app import SimServer


def seed_demo_catalog(sim: SimServer) -> None:
    """A monthly and a yearly membership plus a pay-what-you-want donation."""
    from .resources.catalog import create_price, create_product

    with sim.sim.store.lock:
        if sim.sim.store.all("product"):
            return
        member = create_product(sim.sim, {"name": "Membership", "metadata": {"lookup": "membership"}})
        for key, amount, interval in (("member_monthly", "800", "month"), ("member_yearly", "8000", "year")):
            create_price(sim.sim, {"product": member["id"], "currency": "usd", "unit_amount": amount,
                                   "recurring": {"interval": interval}, "lookup_key": key})
        donation = create_product(sim.sim, {"name": "Donation"})
        create_price(sim.sim, {"product": donation["id"], "currency": "usd", "lookup_key": "donation_custom",
                               "custom_unit_amount": {"enabled": "true", "minimum": "100", "preset": "1000"}})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stripe_sim", description="Offline Stripe simulator (loopback only)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=12111)
    ap.add_argument("--state-file", default=None)
    ap.add_argument("--webhook-url", default=None)
    ap.add_argument("--webhook-secret", default=None)
    ap.add_argument("--seed-demo-catalog", action="store_true")
    args = ap.parse_args(argv)
    sim = SimServer(host=args.host, port=args.port, webhook_secret=args.webhook_secret,
                    state_file=args.state_file).start()
    if args.webhook_url:
        existing = [ep for ep in sim.sim.store.iter_newest("webhook_endpoint") if ep["url"] == args.webhook_url]
        if not existing:
            sim.add_webhook_endpoint(args.webhook_url, args.webhook_secret)
    if args.seed_demo_catalog:
        seed_demo_catalog(sim)
    print(f"stripe_sim listening on {sim.url} (STRIPE_API_BASE)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
