"""A digest's MIME boundary is chosen, not searched for by the email generator: it must never
appear in what it separates, or the message would be cut apart at the wrong line."""

from __future__ import annotations

from email import message_from_bytes

from workers import mail


class _Settings:
    mail_from = "Commons <digests@commons.example>"
    public_url = "https://commons.example"
    api_url = "https://commons.example"


def test_a_boundary_found_in_a_body_is_drawn_again(monkeypatch):
    drawn = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(mail.secrets, "token_hex", lambda _n: next(drawn))
    text = "Someone wrote --=_aaaa in a comment\n"
    message = mail.digest_message(
        _Settings,  # type: ignore[arg-type]
        to="reader@example.org",
        subject="1 problem shared",
        text=text,
        html="<p>“Phones at 8am”</p>",
        message_id="<digest.1.2026-W50@commons.example>",
        unsubscribe_url="https://commons.example/api/v1/unsubscribe/t",
    )
    assert message.get_boundary() == "=_bbbb"
    parsed = message_from_bytes(message.as_bytes())
    plain, html = [
        p.get_payload(decode=True).decode() for p in parsed.walk() if not p.is_multipart()
    ]
    assert (plain, html) == (text, "<p>“Phones at 8am”</p>")


def test_a_digest_with_charts_nests_a_boundary_that_the_outer_one_does_not_begin():
    """RFC 2046: no line of a part may begin with an enclosing multipart's delimiter."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    message = mail.digest_message(
        _Settings,  # type: ignore[arg-type]
        to="reader@example.org",
        subject="A special cause",
        text="Chart below\n",
        html='<p>Chart</p><img src="cid:chart-1">',
        message_id="<digest.2.2026-W50@commons.example>",
        unsubscribe_url="https://commons.example/api/v1/unsubscribe/t",
        images={"chart-1": png},
    )
    outer = message.get_boundary()
    [related] = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    inner = related.get_boundary()
    assert not inner.startswith(outer) and not outer.startswith(inner)
    raw = message.as_bytes()
    lines = raw.split(b"\n")
    inside = [line for line in lines if line.startswith(f"--{outer}".encode())]
    assert all(
        line.rstrip(b"\r") in (f"--{outer}".encode(), f"--{outer}--".encode()) for line in inside
    )
    parsed = message_from_bytes(raw)
    [image] = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert image.get_payload(decode=True) == png and image["Content-ID"] == "<chart-1>"
