"""HTTP front end: a threaded HTTP/1.1 keep-alive server on loopback.

``/v1/...`` is the Stripe API (auth, idempotency, JSON errors, expand);
``/checkout``, ``/portal`` are the hosted pages; ``/_sim`` is the control API.
Handlers run under the store lock; follow-up work (refund settlement, disputes)
runs right after the response body is built, so responses show Stripe's
intermediate states (e.g. a refund ``pending``) exactly once.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import pages, strict
from .engine import API_VERSION, RequestCtx
from .errors import StripeError, auth, idempotency, not_found
from .listing import expand
from .params import decode
from .routing import Request, resolve

if TYPE_CHECKING:
    from .app import SimServer


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sim_server: SimServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive sockets so stop() really stops."""
        with self.conns_lock:
            conns = list(self.conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # keep-alive + Nagle + delayed ACK would cost 40 ms a request
    server_version = "stripe-sim"
    sys_version = ""
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.conns_lock:
            self.server.conns.add(self.connection)

    def finish(self) -> None:
        with self.server.conns_lock:
            self.server.conns.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests and benchmarks would drown in access logs."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _body(self) -> str:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8") if n else ""

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # headers and body in one write: one segment on the wire for small responses
        buf: list[bytes] = self.__dict__["_headers_buffer"]
        buf.append(b"\r\n")
        if self.command != "HEAD":
            buf.append(body)
        self.flush_headers()

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        body = self._body()
        app = self.server.sim_server
        try:
            if path.startswith("/v1/"):
                self._api(app, method, path, parts.query, body)
                return
            status, headers, payload, ctype = pages.handle(app, method, path, decode(parts.query), decode(body))
            self._send(status, payload, ctype, headers)
        except Exception as exc:  # pragma: no cover - last-resort 500, keeps the connection sane
            app.sim.batch = None
            app.sim.ctx = RequestCtx()
            self._send(500, json.dumps({"error": {"type": "api_error", "message": repr(exc)}}).encode())

    def _api(self, app: SimServer, method: str, path: str, query: str, body: str) -> None:
        sim = app.sim
        req_id = sim.store.new_id("req", 14)
        headers = {"Request-Id": req_id, "Stripe-Version": API_VERSION}
        idem_key = self.headers.get("Idempotency-Key") if method == "POST" else None
        if idem_key:
            headers["Idempotency-Key"] = idem_key
        try:
            key = _api_key(self.headers.get("Authorization", ""))
            params = decode(query)
            if body:
                params.update(decode(body))
            found = resolve(method, path)
            if found is None:
                raise not_found(path)
            fn, args, pattern = found
            strict.check(method, pattern, params)
            with sim.store.lock:
                if idem_key:
                    cache_key = f"{key}:{idem_key}"
                    fingerprint = f"{method} {path} {body}"
                    hit = sim.store.idem.get(cache_key)
                    if hit is not None:
                        if hit["fingerprint"] != fingerprint:
                            raise idempotency(
                                "Keys for idempotent requests can only be used with the same parameters they were "
                                f"first used with. Try using a key other than '{idem_key}' if you meant to execute a "
                                "different request.")
                        headers["Idempotent-Replayed"] = "true"
                        self._send(hit["status"], hit["body"], headers=headers)
                        return
                sim.ctx = RequestCtx(req_id, idem_key)
                try:
                    status, out = 200, self._run(app, fn, Request(method, path, params, args))
                except StripeError as err:
                    if not (idem_key and err.status == 402):
                        raise
                    status, out = err.status, json.dumps(err.body()).encode()
                if idem_key:
                    sim.store.remember_idempotent(cache_key, {"fingerprint": fingerprint, "status": status, "body": out})
                sim.ctx = RequestCtx()
                if method != "GET":
                    sim.settle()
            self._send(status, out, headers=headers)
        except StripeError as err:
            sim.ctx = RequestCtx()
            sim.batch = None  # a failed multi-object operation must not leak held events into the next one
            self._send(err.status, json.dumps(err.body()).encode(), headers=headers)

    @staticmethod
    def _run(app: SimServer, fn: Any, req: Request) -> bytes:
        result = fn(app.sim, req)
        return json.dumps(expand(app.sim, result, req.params)).encode()


def _api_key(header: str) -> str:
    """Test-mode secret or restricted keys only; anything else is a 401 like Stripe's."""
    if not header:
        raise auth("You did not provide an API key. You need to provide your API key in the Authorization header, "
                   "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "basic":
        import base64

        key = base64.b64decode(key).decode().split(":", 1)[0]
    if not (key.startswith("sk_test_") or key.startswith("rk_test_")):
        raise auth(f"Invalid API Key provided: {key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}")
    return key


def make_http_server(host: str, port: int, app: SimServer) -> _HTTPServer:
    srv = _HTTPServer((host, port), Handler)
    srv.sim_server = app
    return srv
