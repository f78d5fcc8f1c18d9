"""An entry as people pass it round: Markdown to paste into a policy document, a printable
self-contained HTML page to pin up, and the difference between two of its versions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from network.access import Principal
from network.library import queries
from network.library.models import LibraryEntry, LibraryVersion
from network.organisations.models import Organisation
from network.people.models import Person
from network.render import render
from network.uow import UnitOfWork

ExportFormat = Literal["md", "html"]
DiffFormat = Literal["unified", "html"]


@dataclass(frozen=True)
class Export:
    entry: LibraryEntry
    organisation: Organisation
    author: Person
    version: LibraryVersion
    link: str


def export(uow: UnitOfWork, principal: Principal, entry_id: int, *, public_url: str) -> Export:
    view = queries.get(uow, principal, entry_id)
    version = queries.version(uow, principal, entry_id, view.entry.latest_version).version
    return Export(
        view.entry, view.organisation, view.author, version, f"{public_url}/library/{entry_id}"
    )


def render_export(paper: Export, fmt: ExportFormat) -> str:
    return render(f"library_entry.{fmt}", e=paper)


def _lines(version: LibraryVersion) -> list[str]:
    """A version as the lines a diff compares: title, summary, tags, status, then the body."""
    head = [
        f"# {version.title}",
        "",
        version.summary,
        "",
        f"Tags: {', '.join(version.tags) or '-'}",
        f"Status: {version.status.value}",
        "",
    ]
    return head + version.body.splitlines()


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed", "hunk"
    text: str


@dataclass(frozen=True)
class Diff:
    entry: LibraryEntry
    old: LibraryVersion
    new: LibraryVersion
    lines: list[str]  # unified diff

    @property
    def marked(self) -> list[DiffLine]:
        kinds = {"+": "added", "-": "removed", "@": "hunk"}
        return [
            DiffLine(kinds.get(line[:1], "same"), line)
            for line in self.lines[2:]  # past the ---/+++ header
        ]


def diff(uow: UnitOfWork, principal: Principal, entry_id: int, number: int, *, since: int) -> Diff:
    """What changed from version `since` to version `number` of an entry."""
    view = queries.get(uow, principal, entry_id)
    new = queries.version(uow, principal, entry_id, number).version
    old = queries.version(uow, principal, entry_id, since).version
    lines = list(
        difflib.unified_diff(
            _lines(old),
            _lines(new),
            fromfile=f"version {old.number}",
            tofile=f"version {new.number}",
            lineterm="",
        )
    )
    return Diff(view.entry, old, new, lines)


def render_diff(result: Diff, fmt: DiffFormat) -> str:
    if fmt == "unified":
        return "\n".join(result.lines) + ("\n" if result.lines else "")
    return render("library_diff.html", d=result)
