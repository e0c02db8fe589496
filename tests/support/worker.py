"""A real Celery worker process for integration tests (no eager mode: it hides bugs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALL_QUEUES = "default,webhooks,mail,newsletters,reports"


class WorkerProcess:
    """`celery -A workers.celery_app worker` with the test's settings in its environment."""

    def __init__(self, env: Mapping[str, str], queues: str = ALL_QUEUES, concurrency: int = 2,
                 pool: str = "prefork", log_path: Path | None = None) -> None:
        self.env = {**os.environ, **env}
        self.args = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
                     "-Q", queues, "-c", str(concurrency), "-P", pool, "--without-gossip",
                     "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=out,
                                     start_new_session=True)
        if self.log_path:
            out.close()  # type: ignore[union-attr]
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker dies mid-task, as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    """Poll `predicate` until true or the (bounded) time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
