"""Small text rules shared by every feature."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

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


LONDON = zoneinfo.ZoneInfo("Europe/London")


def london(at: datetime) -> str:
    """A time as people in England read it: "Tue 8 Dec 2026, 12:30" (London wall clock)."""
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"
