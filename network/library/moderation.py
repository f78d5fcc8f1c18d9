"""Moderation of library entries, as for problems: reports by readers, hiding, and redaction of
what should never have been written — in the entry, in every version that holds it, in
adoption notes, reports and the activity it is described from."""

from __future__ import annotations

from sqlalchemy import select

from network import moderation as shared
from network.access import Principal
from network.activity import services as activity
from network.errors import Forbidden
from network.library import queries
from network.library.models import Adoption, LibraryEntry, LibraryVersion
from network.library.services import set_tags
from network.preconditions import bump_version
from network.problems.models import Report
from network.safety import render_markdown
from network.uow import UnitOfWork

TITLE_LENGTH = 200


def report(uow: UnitOfWork, principal: Principal, entry_id: int, *, reason: str) -> Report:
    """Anyone who reads an entry can report it."""
    entry = queries.get(uow, principal, entry_id).entry
    return shared.file_report(
        uow, principal, board_id=entry.organisation_id, reason=reason, library_entry_id=entry.id
    )


def _moderated(uow: UnitOfWork, principal: Principal, entry_id: int) -> LibraryEntry:
    view = queries.get(uow, principal, entry_id)
    if not view.rights.moderate:
        raise Forbidden("Only the administrators of its organisation who read it moderate it.")
    return view.entry


def set_hidden(uow: UnitOfWork, principal: Principal, entry_id: int, hidden: bool) -> None:
    """Hide an entry from all but its moderators (or show it again)."""
    entry = _moderated(uow, principal, entry_id)
    bump_version(uow.session, entry)
    entry.hidden = hidden
    shared.record_hidden(
        uow,
        principal,
        hidden,
        organisation_id=entry.organisation_id,
        subject_type="library_entry",
        subject_id=entry.id,
    )
    uow.session.flush()


def redact(
    uow: UnitOfWork, principal: Principal, entry_id: int, *, text: str, replacement: str
) -> int:
    """Replace every occurrence of `text` (in any letter case) wherever the entry keeps it.
    Returns how many places changed; the audit entry records that it happened, never the text."""
    entry = _moderated(uow, principal, entry_id)
    pattern, scrub = shared.redaction(text, replacement)
    bump_version(uow.session, entry)

    def texts(row: LibraryEntry | LibraryVersion) -> list[str]:
        return [row.title, row.summary, row.body, " ".join(row.tags)]

    changed = 0
    if any(pattern.search(t) for t in [*texts(entry), entry.withdrawn_reason or ""]):
        _scrub_content(entry, scrub)
        set_tags(uow, entry, entry.tags)  # the rows filters read, as the entry now shows them
        if entry.withdrawn_reason:
            entry.withdrawn_reason = scrub(entry.withdrawn_reason)
        changed += 1
    for version in uow.session.scalars(
        select(LibraryVersion).where(LibraryVersion.entry_id == entry.id)
    ):
        if any(pattern.search(t) for t in [*texts(version), version.change_note or ""]):
            _scrub_content(version, scrub)
            if version.change_note:
                version.change_note = scrub(version.change_note)
            changed += 1
    for adoption in uow.session.scalars(select(Adoption).where(Adoption.entry_id == entry.id)):
        if adoption.note and pattern.search(adoption.note):
            adoption.note = scrub(adoption.note)
            changed += 1
    return shared.finish_redaction(
        uow,
        principal,
        pattern=pattern,
        scrub=scrub,
        reports=Report.library_entry_id == entry.id,
        thread=activity.Ref("library_entry", entry.id),
        organisation_id=entry.organisation_id,
        changed=changed,
    )


def _scrub_content(row: LibraryEntry | LibraryVersion, scrub) -> None:
    row.title = scrub(row.title)[:TITLE_LENGTH]
    row.summary = scrub(row.summary)
    row.body = scrub(row.body)
    row.body_html = render_markdown(row.body)
    # Tags are stored in lower case; a scrubbed tag may be blank or repeat another.
    tags = [" ".join(scrub(t).split()).lower() for t in row.tags]
    row.tags = list(dict.fromkeys(t for t in tags if t))
