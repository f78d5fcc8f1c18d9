"""Keeping patient-identifiable information out, and rendering Markdown safely.

NHS numbers: ten digits whose check digit satisfies the modulus 11 algorithm, written with or
without spaces or dashes. Text holding one is refused outright (nothing is stored).

Markdown: CommonMark without raw HTML, then sanitised by nh3 (ammonia): no scripts, no event
handlers, no `javascript:` URLs, links open safely."""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from markdown_it import MarkdownIt

from network.errors import Invalid

# Ten digits, optionally separated by single spaces or dashes, not inside a longer number.
_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ \-]?){9}\d(?![\d])")
_WEIGHTS = range(10, 1, -1)


def is_valid_nhs_number(digits: str) -> bool:
    """True when ten digits pass the NHS modulus 11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def find_nhs_numbers(text: str) -> list[str]:
    """Every NHS number in the text, as written."""
    found = []
    for match in _CANDIDATE.finditer(text):
        written = match.group(0)
        if is_valid_nhs_number(re.sub(r"[ \-]", "", written)):
            found.append(written)
    return found


def refuse_nhs_numbers(fields: Iterable[tuple[str, str | None]]) -> None:
    """Raise Invalid naming the field and the number when any text holds an NHS number."""
    for name, text in fields:
        if not text:
            continue
        numbers = find_nhs_numbers(text)
        if numbers:
            raise Invalid(
                f"{numbers[0]} in {name} looks like an NHS number. Patient-identifiable "
                "information must not be posted: remove it and describe the problem without it.",
                field=name,
            )


_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("table")
    .enable("strikethrough")
)

_ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML: raw HTML is shown as text, never rendered."""
    return nh3.clean(
        _markdown.render(text),
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


EXCERPT_LENGTH = 200


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of a Markdown text as plain words, for lists and digests."""
    plain = re.sub(r"[#>*_`~\[\]()!|-]+", " ", text)
    plain = " ".join(plain.split())
    return plain if len(plain) <= length else plain[: length - 1].rstrip() + "…"
