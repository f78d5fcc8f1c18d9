"""Small text rules shared by every feature."""

from __future__ import annotations

from network.errors import Invalid


def collapse_whitespace(text: str) -> str:
    """Names as people read them: runs of white space made one space, no padding."""
    return " ".join(text.split())


def clean_name(name: str, *, field: str = "name") -> str:
    cleaned = collapse_whitespace(name)
    if not cleaned:
        raise Invalid(f"The {field} must not be blank.", field=field)
    return cleaned
