"""Entity tags of versioned resources (`"<id>-<version>-<digest>"`) and the conditional headers
that name them (RFC 9110 section 13)."""

from __future__ import annotations

import hashlib
import re

import orjson
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
IF_MATCH_OPTIONAL_PARAMETER = IF_MATCH_PARAMETER | {
    "required": False,
    "description": "Only if it is still this version (the ETag you read), or `*`.",
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


def etag(resource_id: int, version: int, representation: object) -> str:
    """A strong tag of what one reader is shown: the version (what an edit can overwrite) and
    a digest of the whole representation, which also changes when counts or the reader's own
    fields do (a signal, a comment, a rename) although the version does not."""
    digest = hashlib.sha256(orjson.dumps(representation, option=orjson.OPT_SORT_KEYS))
    return f'"{resource_id}-{version}-{digest.hexdigest()[:16]}"'


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


def if_match(current: str) -> IfMatch | None:
    """What the request's If-Match allows, given the resource's current tag for this reader:
    None without the header, any version for `*`, else the version of the current tag when the
    header names it — strong comparison, so a weak tag, a malformed header or a stale or
    foreign tag allows nothing (412, never a blind change). The version then goes into the
    UPDATE that makes the change, so a change made meanwhile still fails it."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    if header == "*":
        return ANY_VERSION
    versions = set()
    for weak, opaque in _tags(header) or []:
        match = re.fullmatch(r"[0-9]{1,10}-([0-9]{1,10})-[0-9a-f]{16}", opaque)
        if not weak and match and f'"{opaque}"' == current:
            version = int(match.group(1))
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
