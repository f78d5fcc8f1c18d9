"""Mail transport: `.eml` files in the outbox by default, SMTP when `MAIL_URL` is set."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from network.config import Settings


class MailURLError(ValueError):
    """MAIL_URL is not smtp:// or smtps://."""


# Headers folded only past RFC 5322's hard limit: a List-Unsubscribe URL must stay one
# `<https://...>` that mail clients read as it is, never split into encoded words.
POLICY = policy.default.clone(max_line_length=998)


def new_message(settings: Settings, *, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="commons")
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
) -> EmailMessage:
    """A digest or notification: plain text and HTML, one-click unsubscribe (RFC 8058), a
    list id, marked as automatic (no out-of-office replies), and a Message-ID of its own
    making, the same however often the same digest is sent, so a repeat can be dropped."""
    message = new_message(settings, to=to, subject=subject, text=text)
    message.add_alternative(html, subtype="html")
    if images:
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None
        for cid, png in images.items():  # the charts the HTML shows, by Content-ID
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    message.replace_header("Message-ID", message_id)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Id"] = f"Commons digests <digests.{_host(settings.public_url)}>"
    message["Auto-Submitted"] = "auto-generated"
    message["Precedence"] = "bulk"
    return message


def _host(url: str) -> str:
    return urlsplit(url).hostname or "localhost"


def digest_id(settings: Settings, person_id: int, period: str) -> str:
    """The Message-ID of one person's digest of one period."""
    return f"<digest.{person_id}.{period}@{_host(settings.api_url)}>"


def notification_id(settings: Settings, person_id: int, key: str) -> str:
    """The Message-ID of one notification to one person (`key`: what it is about)."""
    return f"<{key.replace(':', '.')}.{person_id}@{_host(settings.api_url)}>"


def send(settings: Settings, message: EmailMessage) -> str:
    """Hand the message over; returns where it went (a file path or the SMTP host)."""
    if settings.mail_url is None:
        return str(_write_to_outbox(settings.outbox_path, message))
    return _send_smtp(settings.mail_url, message)


def _write_to_outbox(outbox: Path, message: EmailMessage) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = outbox / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(message.as_bytes())
    tmp.replace(path)  # readers never see half a message
    return path


def _send_smtp(url: str, message: EmailMessage) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailURLError("MAIL_URL must look like smtp://host:25 or smtps://user:pass@host:465")
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            parts.hostname, parts.port or 465, context=context, timeout=30
        )
    else:
        client = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=30)
    with client:
        if parts.scheme == "smtp":
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
    return parts.hostname
