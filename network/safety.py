"""Keeping patient-identifiable information out, and rendering Markdown safely.

NHS numbers: ten digits whose check digit satisfies the modulus 11 algorithm, written unbroken or
grouped 3-3-4 with any run of separators between the groups. Text holding one is refused outright
(nothing is stored). The check runs on what a reader will see: the text with its HTML entities
decoded, and the plain text of its rendered Markdown; both are folded to NFKC with invisible marks
removed, so look-alike digits, entities and zero-width characters cannot hide a number.

Markdown: CommonMark without raw HTML, then sanitised by nh3 (ammonia): no scripts, no event
handlers, no `javascript:` URLs, links open safely."""

from __future__ import annotations

import html
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator

import nh3
from markdown_it import MarkdownIt

from network.errors import Invalid

_WEIGHTS = range(10, 1, -1)

# Longer than any run a person or an editor puts between two groups; keeps each check bounded.
MAX_SEPARATOR_RUN = 16

# Whitespace of any kind is tested with str.isspace; Unicode categories catch every dash (Pd),
# bracket (Ps, Pe) and underscore-like connector (Pc); the rest are named: dots, slashes, minus
# signs and the Markdown markers a writer puts around a group (`*`, `_`, `` ` ``, `~`).
_SEPARATOR_CATEGORIES = frozenset({"Pd", "Ps", "Pe", "Pc"})
_SEPARATOR_CHARACTERS = frozenset(
    ".\u00b7\u2022\u2024\u2027\u2219\u22c5\u2e31\u30fb\u3002"  # dots
    "/\\\u2044\u2215\u2216\u29f8\u29f9"  # slashes
    "\u2212\u2796\u02d7\u2043"  # minus signs and a hyphen bullet, not category Pd
    "<>*`~"
)
# Formatting characters (zero-width space, soft hyphen, word joiner...) and combining marks are
# not seen as characters of their own, so a reader sees the digits either side as adjacent.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Mn", "Me"})

_DIGIT_RUN = re.compile(r"[0-9]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A country code (and the optional national "(0)") in front makes ten digits a phone number:
# +44 161 496 0000, +44 (0)300 123 4567. It is looked for only this far back.
_DIALLING_CODE = re.compile(r"\+[0-9]{1,3}[\s.\-]*(?:\(0\)[\s.\-]*)?\Z")
_DIALLING_CODE_REACH = 24
_INLINE_TAG = re.compile(r"</?(?:a|code|del|em|strong)\b[^>]*>")
_TAG = re.compile(r"<[^>]*>")


def is_valid_nhs_number(digits: str) -> bool:
    """True when ten ASCII digits pass the NHS modulus 11 check."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _fold(match: re.Match[str]) -> str:
    char = match.group(0)
    if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return ""
    decimal = unicodedata.decimal(char, None)
    return char if decimal is None else str(decimal)


def _as_read(text: str) -> str:
    """The text as a reader sees it: entities decoded, NFKC, invisible marks gone, ASCII digits.

    NFKC folds fullwidth and mathematical digits; digits of other scripts (Arabic-Indic,
    Devanagari...) have no compatibility mapping, so they are folded by their decimal value."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    return text if text.isascii() else _NON_ASCII.sub(_fold, text)


def _rendered_plain_text(text: str) -> str:
    # Block tags become line breaks so that the contents of neighbouring paragraphs, list items
    # or table cells are never read as one run of digits; inline tags vanish, as they do on screen.
    rendered = _INLINE_TAG.sub("", render_markdown(text))
    return _TAG.sub("\n", rendered)


def _is_separator(char: str) -> bool:
    return (
        char.isspace()
        or char in _SEPARATOR_CHARACTERS
        or unicodedata.category(char) in _SEPARATOR_CATEGORIES
    )


def _separates(view: str, start: int, end: int) -> bool:
    return 0 < end - start <= MAX_SEPARATOR_RUN and all(map(_is_separator, view[start:end]))


def _candidates(view: str) -> Iterator[tuple[int, int]]:
    """Spans of ten digits, unbroken or grouped 3-3-4, with no digit either side.

    Maximal digit runs are visited once and each gap between them is checked at most twice,
    with a bounded length: linear in the length of the text, whatever it holds."""
    runs: deque[tuple[int, int]] = deque(maxlen=3)
    for match in _DIGIT_RUN.finditer(view):
        start, end = match.span()
        runs.append((start, end))
        if end - start == 10:
            yield start, end
        elif (
            [e - s for s, e in runs] == [3, 3, 4]
            and _separates(view, runs[0][1], runs[1][0])
            and _separates(view, runs[1][1], runs[2][0])
        ):
            yield runs[0][0], end


def _after_dialling_code(view: str, start: int) -> bool:
    return bool(_DIALLING_CODE.search(view, max(0, start - _DIALLING_CODE_REACH), start))


def find_nhs_numbers(text: str) -> list[str]:
    """Every distinct NHS number a reader of the text would see, as found (entities decoded)."""
    found: dict[str, str] = {}
    for view in (_as_read(text), _as_read(_rendered_plain_text(text))):
        for start, end in _candidates(view):
            written = view[start:end]
            digits = "".join(_DIGIT_RUN.findall(written))
            if is_valid_nhs_number(digits) and not _after_dialling_code(view, start):
                found.setdefault(digits, written)
    return list(found.values())


def refuse_nhs_numbers(fields: Iterable[tuple[str, str | None]]) -> None:
    """Raise Invalid naming the field and the number when any text holds an NHS number."""
    for name, text in fields:
        if not text:
            continue
        numbers = find_nhs_numbers(text)
        if numbers:
            shown = " ".join(numbers[0].split())
            raise Invalid(
                f"{shown} in {name} looks like an NHS number. Patient-identifiable "
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
