"""One kept-open SMTP connection from SMTP_URL, with replies sorted into retry or fail.

A new connection per message costs about three times as much as reusing one, so a
sender is a context manager that opens lazily and keeps the connection for a chunk.
Replies are classified by their first digit: 4xx is `TemporaryFailure` (retry later
with backoff), 5xx is `PermanentFailure` (the row fails). A dropped connection is
reopened once; a second drop or an unreachable server is temporary.

URL forms: `smtp://[user:pass@]host[:port][?starttls=true]` (STARTTLS when the server
offers it and the URL asks; `starttls=required` refuses to send in the clear) and
`smtps://[user:pass@]host[:port]` (TLS from the first byte, port 465 by default).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlparse

_TRUE = ("1", "true", "yes", "on")


class SmtpFailure(Exception):
    """A reply (or its absence) that stopped one message; `code` is the SMTP code or 0.

    `stage` is "rcpt" when the server refused the recipient itself (a hard bounce when
    permanent), else "" (connection, sender, data).
    """

    def __init__(self, code: int, reply: str, stage: str = "") -> None:
        super().__init__(f"{code} {reply}".strip() if code else reply)
        self.code = code
        self.reply = reply
        self.stage = stage


class TemporaryFailure(SmtpFailure):
    """4xx, a dropped connection or an unreachable server: retry later with backoff."""


class PermanentFailure(SmtpFailure):
    """5xx: the server will not take this message for this recipient; fail the row."""


@dataclass(frozen=True)
class SmtpTarget:
    """SMTP_URL, parsed once."""

    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "no" | "opportunistic" | "required"
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlparse(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP URL must start with smtp:// or smtps://, not '{parts.scheme}://'")
        implicit = parts.scheme == "smtps"
        flag = (parse_qs(parts.query).get("starttls") or ["no"])[0].lower()
        starttls = "required" if flag == "required" else "opportunistic" if flag in _TRUE else "no"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            starttls="no" if implicit else starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _classify(code: int, reply: bytes | str, stage: str = "") -> SmtpFailure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    if 400 <= code < 500:
        return TemporaryFailure(code, text, stage)
    if 500 <= code < 600:
        return PermanentFailure(code, text, stage)
    return TemporaryFailure(code, text or "unexpected SMTP reply", stage)


class SmtpSender:
    """A context manager around one SMTP connection; `send` raises the two failure kinds."""

    def __init__(self, smtp_url: str, timeout: float = 30.0) -> None:
        self.target = SmtpTarget.parse(smtp_url)
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if t.implicit_tls:
            conn = smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
        try:
            conn.ehlo()
            if t.starttls != "no":
                if conn.has_extn("starttls"):
                    conn.starttls(context=context)
                    conn.ehlo()
                elif t.starttls == "required":
                    raise PermanentFailure(0, "server does not offer STARTTLS and the SMTP URL requires it")
            if t.username:
                conn.login(t.username, t.password or "")
        except BaseException:
            _close_quietly(conn)
            raise
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            try:
                self._conn = self._connect()
            except smtplib.SMTPAuthenticationError as exc:
                raise PermanentFailure(exc.smtp_code, f"authentication failed: {exc.smtp_error!r}") from exc
            except smtplib.SMTPResponseException as exc:
                raise _classify(exc.smtp_code, exc.smtp_error) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise TemporaryFailure(0, f"cannot connect to {self.target.host}:{self.target.port}: {exc}") from exc
        return self._conn

    def send(self, mail_from: str, to: str, data: bytes) -> None:
        """Deliver `data` to one recipient; returns only after the server's 250."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.sendmail(mail_from, [to], data)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if attempt == 2:
                    raise TemporaryFailure(0, f"connection lost: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                raise _classify(code, reply, "rcpt") from exc
            except smtplib.SMTPResponseException as exc:  # sender refused, data error
                if exc.smtp_code == 421:  # server is closing the channel
                    self._drop()
                raise _classify(exc.smtp_code, exc.smtp_error) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise TemporaryFailure(0, f"SMTP error: {exc}") from exc

    def _drop(self) -> None:
        if self._conn is not None:
            _close_quietly(self._conn)
            self._conn = None

    def close(self) -> None:
        """QUIT politely; a connection that already died is just forgotten."""
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            _close_quietly(self._conn)
            self._conn = None


def _close_quietly(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()
