"""How names from ODS files read on screen.

ODS publishes names in capitals ("THE DENSHAM SURGERY"). Display names are tidied (white space
collapsed) and, when the source is all capitals, put in title case so they read like the names
practices use themselves ("The Densham Surgery"). The source name is always kept as published.
Title case is a best effort: initialisms such as PCN, NHS or GP stay in capitals, and anything it
gets wrong can be renamed by an administrator; the rename survives later imports (see
`importing`)."""

from __future__ import annotations

import re

from network.text import collapse_whitespace

_WORD = re.compile(r"[A-Za-z]+")
# Initialisms that contain a vowel and so escape the no-vowel rule below.
_INITIALISMS = frozenset({"UK", "ICB", "OOH", "IAPT", "CIC", "UHC"})
# Abbreviations without vowels that are still words (in names and addresses).
_ABBREVIATIONS = frozenset(
    {"DR", "DRS", "ST", "MR", "MRS", "MS", "RD", "CTR", "CNTR", "PK", "SQ", "CT", "CRT", "LN"}
    | {"PL", "GDNS", "GRN", "HWY", "BLDG", "TWR", "BLVD"}
)
# Small words in lower case unless they start the name: "Stockton-on-Tees", "Sands and Wood".
_SMALL = frozenset({"and", "at", "by", "for", "in", "of", "on", "upon", "the", "le", "de", "under"})
_VOWELS = frozenset("AEIOUY")


def display_name(source: str) -> str:
    """The name to show for a name as ODS publishes it."""
    tidy = collapse_whitespace(source)
    if any(c.islower() for c in tidy):
        return tidy
    return _WORD.sub(lambda m: _title_word(tidy, m), tidy)


def _title_word(text: str, match: re.Match[str]) -> str:
    word = match.group(0)
    start = match.start()
    before = text[start - 1] if start else ""
    if before.isdigit():
        return word.lower()  # 1ST, 2ND
    if before == "'" and word in ("S", "T", "LL", "D", "VE", "RE"):
        # JOHN'S, CAN'T: the part after an apostrophe that ends a word, not a new name (O'BRIEN).
        return word.lower()
    if word in _INITIALISMS or (
        word not in _ABBREVIATIONS and len(word) <= 4 and not (_VOWELS & set(word))
    ):
        return word
    if start and before != "(" and word.lower() in _SMALL:
        return word.lower()
    if word.startswith("MC") and len(word) > 3:
        return "Mc" + word[2:].capitalize()
    return word.capitalize()
