"""Small text rules shared by every feature."""

from __future__ import annotations

from network.errors import Invalid
from network.safety import refuse_nhs_numbers


def collapse_whitespace(text: str) -> str:
    """Names as people read them: runs of white space made one space, no padding."""
    return " ".join(text.split())


def clean_name(name: str, *, field: str = "name") -> str:
    """A name or title as stored: white space folded, not blank, and — like every free text
    people write — holding no NHS number."""
    cleaned = collapse_whitespace(name)
    if not cleaned:
        raise Invalid(f"The {field} must not be blank.", field=field)
    refuse_nhs_numbers([(field, cleaned)])
    return cleaned
