"""Keeping patient-identifiable information out, and rendering Markdown safely.

NHS numbers: ten digits whose check digit satisfies the modulus 11 algorithm, written unbroken or
grouped 3-3-4 with any run of separators between the groups. Text holding one is refused outright
(nothing is stored). The check runs on what a reader will see: the text with its HTML entities
decoded, and the plain text of its rendered Markdown; both are folded to NFKC with invisible marks
removed, so look-alike digits, entities and zero-width characters cannot hide a number.

Markdown: GitHub-flavoured (tables, strikethrough, task lists, autolinked URLs) without raw HTML,
then sanitised by nh3 (ammonia): no scripts, no event handlers, no `javascript:` URLs, links open
safely. Excerpts are the plain words of the same Markdown, as a reader sees them."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

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
    ",:;|'\"+!#="  # what people and tables put between groups (943,476,5919; | 943 | 476 |)
    "\u3164\u115f\u1160\uffa0\u2800"  # Hangul fillers and the braille blank: shown as space
)
# Formatting characters (zero-width space, soft hyphen, word joiner...) and combining marks are
# not seen as characters of their own, so a reader sees the digits either side as adjacent.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Mn", "Me"})

_DIGIT_RUN = re.compile(r"[0-9]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A country code (and the optional national "(0)") in front makes ten digits a phone number:
# +44 161 496 0000, +44 (0)300 123 4567. It is looked for only this far back.
_DIALLING_CODE = re.compile(r"\+[1-9][0-9]{0,2}[\s.\-]*(?:\(0\)[\s.\-]*)?\Z")
_WHITESPACE_RUN = re.compile(r"\s{2,}")
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
    text = text if text.isascii() else _NON_ASCII.sub(_fold, text)
    # A browser shows any run of white space as one space, and so must the guard read it.
    return _WHITESPACE_RUN.sub(" ", text)


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
    # The text as written, as rendered, and as lists show it (the excerpt drops some marks).
    views = (_as_read(text), _as_read(_rendered_plain_text(text)), _as_read(excerpt(text)))
    for view in views:
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


class _Autolink:
    """An address found in a text, as markdown-it's linkify rule reads it."""

    __slots__ = ("index", "last_index", "schema", "text", "url")

    def __init__(self, schema: str, index: int, text: str, url: str) -> None:
        self.schema, self.index, self.last_index = schema, index, index + len(text)
        self.text, self.url = text, url


# GitHub's autolinks: http(s):// and www. addresses where a word starts (at the start, after
# whitespace or * _ ~ ( ), up to whitespace or "<"; e-mail addresses, the whole run of their
# local part (possessive, and where the run starts) then @ and a dotted domain. One pass, no
# backtracking beyond one run: linear in the length of the text, whatever it holds.
_AUTOLINK = re.compile(
    r"(?<![^\s*_~(])(?:(?P<scheme>https?://)|www\.)[^\s<]*"
    r"|(?<![^\s*~(])(?P<email>[a-z0-9.+_-]++@[a-z0-9_-]+(?:\.[a-z0-9_-]+)+)",
    re.IGNORECASE,
)
_MAY_AUTOLINK = re.compile(r"://|www\.|@", re.IGNORECASE)
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*")
_TRAILING_PUNCTUATION = frozenset("?!.,:*_~'\"")


def _without_trailing_punctuation(url: str) -> str:
    """GitHub's rule: trailing punctuation, an unmatched ")" and an entity-like "&name;" are
    not part of the address."""
    end, unmatched = len(url), url.count(")") - url.count("(")
    while end:
        last = url[end - 1]
        if last in _TRAILING_PUNCTUATION:
            end -= 1
        elif last == ")" and unmatched > 0:
            end, unmatched = end - 1, unmatched - 1
        elif last == ";":
            start = end - 2
            while start >= 0 and url[start].isalnum():
                start -= 1
            end = start if start < end - 2 and start >= 0 and url[start] == "&" else end - 1
        else:
            break
    return url[:end]


def _valid_domain(host: str, *, dotted: bool) -> bool:
    domain = _DOMAIN.match(host)
    if domain is None:
        return False
    segments = domain.group().split(".")
    return (len(segments) > 1 or not dotted) and "_" not in "".join(segments[-2:])


class _Autolinks:
    """The linkifier markdown-it's core linkify rule asks (pretest, test, match)."""

    def pretest(self, text: str) -> bool:
        return _MAY_AUTOLINK.search(text) is not None

    test = pretest

    def match(self, text: str) -> list[_Autolink] | None:
        links = []
        for found in _AUTOLINK.finditer(text):
            if email := found.group("email"):
                if email[-1] not in "-_":
                    links.append(_Autolink("mailto:", found.start(), email, "mailto:" + email))
                continue
            scheme = found.group("scheme") or ""
            address = _without_trailing_punctuation(found.group())
            host = address[len(scheme) :]
            if not _valid_domain(host, dotted=not scheme):
                continue
            if scheme:
                links.append(_Autolink(scheme[:-2], found.start(), address, address))
            else:  # www.
                links.append(_Autolink("", found.start(), address, "http://" + address))
        return links or None


def _as_published(state: StateCore) -> None:
    """Strikethrough as <del>; table alignment as an `align` attribute (no inline styles)."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and "style" in token.attrs:
            token.attrSet("align", str(token.attrs.pop("style")).removeprefix("text-align:"))
        for child in token.children or ():
            if child.type in ("s_open", "s_close"):
                child.tag = "del"


def _raw_html_as_text(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return escapeHtml(tokens[idx].content)


def _parser() -> MarkdownIt:
    """GitHub-flavoured: CommonMark with tables, strikethrough, task lists and autolinks.

    Raw HTML is recognised as CommonMark defines it, so that an excerpt can leave its tags out,
    and rendered as text, shown as written. HTML blocks are not recognised: Markdown between
    tags is read as Markdown. Only the core linkify rule is enabled: the inline one takes
    quadratic time on "a://a://..."."""
    markdown = (
        MarkdownIt(
            "commonmark",
            {"html": True, "linkify": True, "tasklists": True, "tasklists_editable": False},
        )
        .enable(["table", "strikethrough"])
        .disable("html_block")
    )
    markdown.core.ruler.enable("linkify")
    markdown.linkify = _Autolinks()
    markdown.core.ruler.push("as_published", _as_published)
    markdown.add_render_rule("html_inline", _raw_html_as_text)
    return markdown


_markdown = _parser()


@functools.lru_cache(maxsize=1)
def _parsed(text: str) -> tuple[Token, ...]:
    """One parse for the renderer, the excerpt and the guard, which all read the same text."""
    return tuple(_markdown.parse(text))


_ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
    "input",
}  # fmt: skip

_ALIGNMENTS = {"left", "center", "right"}


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML: raw HTML is shown as text, never rendered. The only input
    is a task's checkbox: type=checkbox and disabled, whatever asked for something else."""
    return nh3.clean(
        _markdown.renderer.render(list(_parsed(text)), _markdown.options, {}),
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        tag_attribute_values={
            "th": {"align": _ALIGNMENTS},
            "td": {"align": _ALIGNMENTS},
            "input": {"type": {"checkbox"}, "disabled": {""}, "checked": {""}},
        },
        set_tag_attribute_values={"input": {"type": "checkbox", "disabled": ""}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


EXCERPT_LENGTH = 200

# Raw HTML tags are left out of an excerpt; one of these vanishes, any other separates words.
_INLINE_HTML = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
    "time", "tt", "u", "var",
})  # fmt: skip
_HTML_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)")


def _plain_text(tokens: list[Token]) -> Iterator[str]:
    """The words a reader sees: text, code as written, images by their alt text, a space
    between blocks; no Markdown syntax and no HTML tags."""
    for token in tokens:
        if token.type in ("text", "code_inline"):
            yield token.content
        elif token.type in ("code_block", "fence"):
            yield f" {token.content} "
        elif token.type in ("softbreak", "hardbreak"):
            yield " "
        elif token.type == "html_inline":
            name = _HTML_TAG_NAME.match(token.content)
            yield "" if name is None or name.group(1).lower() in _INLINE_HTML else " "
        elif token.children:  # a paragraph's or heading's inline content, an image's alt text
            yield from _plain_text(token.children)
        elif token.block:
            yield " "


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of a Markdown text as the plain words a reader sees, for lists and digests:
    punctuation and URLs as written, at most `length` characters, cut between words."""
    plain = " ".join("".join(_plain_text(list(_parsed(text)))).split())
    if len(plain) <= length:
        return plain
    cut = plain[: length - 1]
    if plain[length - 1] != " ":  # inside a word: end at the last whole one, if not too far
        space = cut.rfind(" ")
        if space > length // 2:
            cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"
