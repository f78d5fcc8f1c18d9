"""Entity tags of versioned resources (`"<id>-<version>"`) and the conditional headers that
name them (RFC 9110 section 13)."""

from __future__ import annotations

import re

from flask import request

from network.preconditions import ANY_VERSION, IfMatch

# The conditional headers as the OpenAPI document describes them, for every versioned resource.
IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": "The ETag you read (strong comparison), or `*` for any version.",
}
IF_NONE_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag you hold: 304 Not Modified while it is current.",
}

MAX_VERSION = 2**31 - 1

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def etag(resource_id: int, version: int) -> str:
    return f'"{resource_id}-{version}"'


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque-tag) pairs of a list of entity tags; None when the header is malformed."""
    tags, position = [], 0
    while position < len(header):
        match = _TAG.match(header, position)
        if match is None:
            return None
        tags.append((bool(match.group(1)), match.group(2)))
        position = match.end()
    return tags


def if_match(resource_id: int) -> IfMatch | None:
    """The versions the request's If-Match names for this resource: None without the header,
    any version for `*`. Comparison is strong: a weak tag never matches, nor does a malformed
    header or another resource's tag (so the change answers 412, never applies blindly)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    if header == "*":
        return ANY_VERSION
    versions = set()
    for weak, opaque in _tags(header) or []:
        match = re.fullmatch(r"([0-9]{1,10})-([0-9]{1,10})", opaque)
        if not weak and match and int(match.group(1)) == resource_id:
            version = int(match.group(2))
            if version <= MAX_VERSION:  # larger ones match nothing (and no column holds them)
                versions.add(version)
    return IfMatch(versions=frozenset(versions))


def none_match(current: str) -> bool:
    """True when If-None-Match names the current tag (weak comparison) or is `*`: a GET then
    answers 304 Not Modified."""
    header = request.headers.get("If-None-Match", "").strip()
    if not header:
        return False
    if header == "*":
        return True
    return any(f'"{opaque}"' == current for _weak, opaque in _tags(header) or [])
