"""Mail transport: `.eml` files in the outbox by default, SMTP when `MAIL_URL` is set."""

from __future__ import annotations

import binascii
import io
import re
import secrets
import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from rq import get_current_job

from network.config import Settings


class MailURLError(ValueError):
    """MAIL_URL is not smtp:// or smtps://."""


class TemporaryFailure(Exception):
    """The mail server could not take the message now (4xx, no connection): try again later."""


class PermanentFailure(Exception):
    """The mail server refused the message for good (5xx, a bad address, TLS refused or not
    offered when required): retrying the same message will not help."""


# Headers folded only past RFC 5322's hard limit: a List-Unsubscribe URL must stay one
# `<https://...>` that mail clients read as it is, never split into encoded words.
POLICY = policy.default.clone(max_line_length=998)


def new_message(settings: Settings, *, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = job_message_id(settings) or make_msgid(domain="commons")
    # Plain ASCII stays readable (and its links clickable) in the raw .eml; anything else is
    # quoted-printable.
    message.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    return message


def digest_message(
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    unsubscribe_url: str,
    images: dict[str, bytes] | None = None,
) -> Message:
    """A digest or notification: plain text and HTML, one-click unsubscribe (RFC 8058), a
    list id, marked as automatic (no out-of-office replies), and a Message-ID of its own
    making, the same however often the same digest is sent, so a repeat can be dropped.

    Built from `email.mime` parts on the compat32 policy: a digest run makes thousands, and the
    modern policy parses every header it is given (about 4 ms a message; this is a tenth of
    that). The result is the same MIME tree `new_message` would make (multipart/alternative of
    text and HTML, the HTML multipart/related with its charts), headers encoded (RFC 2047) only
    when they are not ASCII, and nothing folded below RFC 5322's hard limit."""
    boundary = _boundary(text, html)
    alternative = MIMEMultipart("alternative", boundary=boundary, policy=FAST_POLICY)
    alternative.attach(_text_part(text, "plain"))
    html_part = _text_part(html, "html")
    if images:
        # Its own boundary, of the same length: neither may begin a line of the other's
        # delimiter (RFC 2046, 5.1.1), so not the outer one with a suffix.
        inner = _boundary(text, html, boundary)
        related = MIMEMultipart("related", boundary=inner, policy=FAST_POLICY)
        related.attach(html_part)
        for cid, png in images.items():  # the charts the HTML shows, by Content-ID
            image = MIMEImage(png, "png", policy=FAST_POLICY)
            image["Content-ID"] = f"<{cid}>"
            image["Content-Disposition"] = "inline"
            related.attach(image)
        alternative.attach(related)
    else:
        alternative.attach(html_part)
    for name, value in (
        ("From", settings.mail_from),
        ("To", to),
        ("Subject", subject),
        ("Date", format_datetime(datetime.now(UTC))),
        ("Message-ID", message_id),
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("List-Id", f"Commons digests <digests.{_host(settings.public_url)}>"),
        ("Auto-Submitted", "auto-generated"),
        ("Precedence", "bulk"),
    ):
        alternative[name] = value if value.isascii() else _encoded(name, value)
    return alternative


class _Compat32(policy.Compat32):
    """compat32, but a header that is ASCII, one line and shorter than the line limit is
    written as it is, without building an `email.header.Header` to find that out (the same
    bytes; ten headers a message, a third of the time it took to write one out)."""

    def _fits(self, name: str, value: object) -> bool:
        return (
            isinstance(value, str)
            and value.isascii()
            and "\n" not in value
            and "\r" not in value
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
        )

    def fold(self, name: str, value: str) -> str:
        if self._fits(name, value):
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if self._fits(name, value):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


# compat32 stores headers as given; lines are folded only past RFC 5322's limit.
FAST_POLICY = _Compat32(max_line_length=998)


def _boundary(*bodies: str) -> str:
    """A MIME boundary found in none of the bodies (an outer boundary given among them: one of
    the same length is then never its prefix). It starts "=_", which quoted-printable and
    base64 text never contain, and is looked for in the bodies as they are (ASCII ones go as
    they are): the generator's own way searches the whole encoded message with a new regular
    expression for each message."""
    while True:
        boundary = f"=_{secrets.token_hex(12)}"
        if not any(boundary in body for body in bodies):
            return boundary


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    """ASCII as 7bit (readable, links clickable in the raw message), anything else as UTF-8
    quoted-printable, as `new_message` does: encoded by `binascii` (C), not `email.quoprimime`
    (a digest's HTML took longer to encode in Python than to render)."""
    if body.isascii():
        return MIMEText(body, subtype, "us-ascii", policy=FAST_POLICY)
    part = MIMENonMultipart("text", subtype, policy=FAST_POLICY, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(body.encode(), istext=True).decode("ascii"))
    return part


def _encoded(name: str, value: str) -> str:
    """A header with non-ASCII text, as RFC 2047 encoded words: addresses keep their address
    part as it is, only the display name is encoded."""
    if name in ("From", "To"):
        display, address = parseaddr(value)
        if address and address.isascii():
            return formataddr((display, address), charset="utf-8")
    return Header(value, "utf-8").encode()


def _host(url: str) -> str:
    return urlsplit(url).hostname or "localhost"


def digest_id(settings: Settings, person_id: int, period: str) -> str:
    """The Message-ID of one person's digest of one period."""
    return f"<digest.{person_id}.{period}@{_host(settings.api_url)}>"


def job_message_id(settings: Settings) -> str | None:
    """The Message-ID of the mail the running job sends (its job id): a job run again after
    SMTP took its mail, but before it could say so, repeats the same Message-ID."""
    job = get_current_job()
    return f"<{job.id}@{_host(settings.api_url)}>" if job is not None else None


def notification_id(settings: Settings, person_id: int, key: str) -> str:
    """The Message-ID of one notification to one person (`key`: what it is about)."""
    return f"<{key.replace(':', '.')}.{person_id}@{_host(settings.api_url)}>"


def send(settings: Settings, message: Message) -> str:
    """Hand the message over; returns where it went (a file path or the SMTP host). Raises
    `TemporaryFailure` or `PermanentFailure` when SMTP does not take it."""
    if settings.mail_url is None:
        return str(_write_to_outbox(settings.outbox_path, message))
    with _failures():
        return _send_smtp(settings.mail_url, message)


Answer = Callable[[], str]


@dataclass(frozen=True)
class Written:
    """A message written out for SMTP ahead of its turn (`written`): the envelope and the bytes
    `SMTP.send_message` would take from it when handed over. `data` is None when the envelope
    is not plain ASCII (SMTPUTF8, which only the server can say it takes): `send_message` then
    writes it at its turn."""

    message: Message
    sender: str = ""
    recipients: tuple[str, ...] = ()
    data: bytes | None = None


def written(message: Message) -> Written:
    """`message` as `SMTP.send_message` writes it (From and To/Cc for the envelope, CRLF line
    ends): done while the server still reads the last message, it is not done at its turn."""
    if any(name in message for name in ("Sender", "Bcc", "Resent-Date", "Resent-Bcc")):
        return Written(message)  # the cases send_message treats on its own
    sender = getaddresses([message["From"] or ""])[0][1]
    recipients = tuple(
        a for _name, a in getaddresses([v for v in (message["To"], message["Cc"]) if v]) if a
    )
    if not sender or not recipients or not "".join([sender, *recipients]).isascii():
        return Written(message)
    with io.BytesIO() as out:
        BytesGenerator(out).flatten(message, linesep="\r\n")
        return Written(message, sender, recipients, out.getvalue())


def hand_over(settings: Settings, message: Message | Written) -> Answer:
    """`send`, in two steps: on a kept SMTP connection (`reusing_connections`) it returns once
    the message is written to the server, before the server has answered it; the function it
    returns waits for that answer and returns or raises as `send` does. The caller prepares its
    next message (`written`, say) while the server reads this one (a digest batch: the worker
    no longer idles while the server takes each message in). The answer must be read before
    the next message goes on the connection. Elsewhere the message is sent at once and the
    answer is `send`'s."""
    whole = message.message if isinstance(message, Written) else message
    if settings.mail_url is None or _pool.get() is None:
        where = send(settings, whole)
        return lambda: where
    url = settings.mail_url
    with _failures():
        client = _pooled(url)
        client.deferring = True
        try:
            if isinstance(message, Written) and message.data is not None:
                sender, recipients, data = message.sender, list(message.recipients), message.data
                _send_pooled(url, client, lambda: client.sendmail(sender, recipients, data))
            else:
                _send_pooled(url, client, lambda: client.send_message(whole))
        finally:
            client.deferring = False

    def answer() -> str:
        with _failures():
            try:
                client.answer()
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code == 421 or not client.sock:
                    _drop(url, client)
                raise
            except BaseException:
                _drop(url, client)
                raise
        return urlsplit(url).hostname or ""

    return answer


@contextmanager
def _failures() -> Iterator[None]:
    """smtplib's and the network's errors as `TemporaryFailure` or `PermanentFailure`."""
    try:
        yield
    except (MailURLError, PermanentFailure):
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        later = codes and all(400 <= c < 500 for c in codes)
        kind = TemporaryFailure if later else PermanentFailure
        raise kind(f"recipient refused: {_describe(exc.recipients)}") from exc
    except smtplib.SMTPResponseException as exc:
        kind = TemporaryFailure if 400 <= exc.smtp_code < 500 else PermanentFailure
        raise kind(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except ssl.SSLCertVerificationError as exc:
        raise PermanentFailure(f"the mail server's certificate is not trusted: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _describe(recipients: dict) -> str:
    return "; ".join(f"{who}: {code} {_text(text)}" for who, (code, text) in recipients.items())


def _write_to_outbox(outbox: Path, message: Message) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = outbox / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(message.as_bytes())
    tmp.replace(path)  # readers never see half a message
    return path


STARTTLS_MODES = ("opportunistic", "required", "off")


@contextmanager
def reusing_connections() -> Iterator[None]:
    """Within the block, `send` keeps its SMTP connection open and sends the next message on
    it (a digest job's batch), instead of one connection per message; a connection that fails
    is dropped and the next message opens a new one. Closed (QUIT) when the block ends."""
    pool: dict[str, _SMTP] = {}
    token = _pool.set(pool)
    try:
        yield
    finally:
        _pool.reset(token)
        for client in pool.values():
            _close(client)


_pool: ContextVar[dict[str, _SMTP] | None] = ContextVar("smtp_pool", default=None)


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _send_smtp(url: str, message: Message) -> str:
    pool = _pool.get()
    if pool is None:
        client, host = _connect(url)
        with client:
            client.send_message(message)
        return host
    client = _pooled(url)
    _send_pooled(url, client, lambda: client.send_message(message))
    return urlsplit(url).hostname or ""


def _pooled(url: str) -> _SMTP:
    pool = _pool.get()
    assert pool is not None
    if url not in pool:
        pool[url] = _connect(url)[0]
    return pool[url]


def _drop(url: str, client: smtplib.SMTP) -> None:
    pool = _pool.get()
    if pool is not None and pool.get(url) is client:
        del pool[url]
    client.close()


def _send_pooled(url: str, client: _SMTP, sending: Callable[[], object]) -> None:
    if client.unanswered:
        raise RuntimeError("the last message's answer was not read before the next")
    try:
        sending()
    except smtplib.SMTPRecipientsRefused:
        try:
            client.rset()  # the connection is still good: the next message goes on it
        except (smtplib.SMTPException, OSError):
            _drop(url, client)
        raise
    except BaseException:
        _drop(url, client)
        raise


class _SMTP(smtplib.SMTP):
    """smtplib's client, able to leave the server's answer to a message unread: while
    `deferring`, DATA writes the message and returns at once (`sendmail` then returns too),
    and `answer()` reads the answer later, as `sendmail` would have: anything but 250 raises
    `SMTPDataError`, after a RSET that keeps the connection usable (421 closes it)."""

    deferring = False
    unanswered = False

    def data(self, msg):
        if not self.deferring:
            return super().data(msg)
        code, reply = self.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        # As `SMTP.data` writes it (`send_message` hands it bytes, CRLF line ends).
        quoted = _LINE_STARTING_WITH_A_DOT.sub(b"..", msg)
        if not quoted.endswith(b"\r\n"):
            quoted += b"\r\n"
        self.unanswered = True
        self.send(quoted + b".\r\n")
        return 250, b"answer not read yet"

    def answer(self) -> None:
        if not self.unanswered:
            raise RuntimeError("no message is waiting for its answer")
        self.unanswered = False
        code, reply = self.getreply()
        if code != 250:
            if code == 421:
                self.close()
            else:
                with suppress(smtplib.SMTPServerDisconnected):
                    self.rset()
            raise smtplib.SMTPDataError(code, reply)


class _SMTP_SSL(_SMTP, smtplib.SMTP_SSL):
    pass


_LINE_STARTING_WITH_A_DOT = re.compile(rb"(?m)^\.")


def _connect(url: str) -> tuple[_SMTP, str]:
    """`smtps://` speaks TLS from the start; `smtp://` upgrades with STARTTLS when the server
    offers it, and `smtp://...?starttls=required` refuses to send in the clear. Certificates are
    checked against the system's trust store (`SSL_CERT_FILE` names another)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailURLError("MAIL_URL must look like smtp://host:25 or smtps://user:pass@host:465")
    starttls = parse_qs(parts.query).get("starttls", ["opportunistic"])[-1]
    if starttls not in STARTTLS_MODES:
        raise MailURLError(f"MAIL_URL's starttls must be one of {', '.join(STARTTLS_MODES)}")
    context = ssl.create_default_context() if parts.scheme == "smtps" or starttls != "off" else None
    if parts.scheme == "smtps":
        client: _SMTP = _SMTP_SSL(parts.hostname, parts.port or 465, context=context, timeout=30)
    else:
        client = _SMTP(parts.hostname, parts.port or 25, timeout=30)
    try:
        if parts.scheme == "smtp" and starttls != "off":
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif starttls == "required":
                raise PermanentFailure(
                    f"{parts.hostname} does not offer STARTTLS and MAIL_URL requires it"
                )
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        _close(client)
        raise
    return client, parts.hostname
