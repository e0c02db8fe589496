"""A local SMTP sink (aiosmtpd): the embedded default's mail server and the tests' one.

`python -m membership.mail.sink --dir var/mail` stores each message as an .eml file;
tests use `MemorySink`, which keeps messages in a list and can answer 4xx/5xx to
simulate throttling and rejections.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class MemorySink:
    """Keeps every accepted message; `reply_for(rcpt)` may return an SMTP error line."""

    messages: list[ReceivedMessage] = field(default_factory=list)
    fail_rcpt: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        reply = self.fail_rcpt.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(ReceivedMessage(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@dataclass
class DirectorySink:
    """Writes each message to `<dir>/<time>-<uuid>.eml` for a person to open."""

    directory: Path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.directory / name).write_bytes(envelope.content)
        return "250 Message accepted for delivery"


def start_sink(handler: Any, port: int, host: str = "127.0.0.1") -> Controller:
    """Start an aiosmtpd controller on loopback (port 0 does not work with aiosmtpd)."""
    controller = Controller(handler, hostname=host, port=port, data_size_limit=10_000_000)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink storing .eml files")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default="var/mail")
    args = parser.parse_args()
    controller = start_sink(DirectorySink(Path(args.dir)), args.port)
    print(f"mail sink on smtp://127.0.0.1:{args.port}, saving to {args.dir}/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
