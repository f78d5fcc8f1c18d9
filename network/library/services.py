"""Changing the library: entries and their versions, promotion from a solved problem or a
completed workstream, and each practice's adoption."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy import update as sql_update

from network import access, preconditions
from network.access import Principal
from network.access import library as rules
from network.activity import services as activity
from network.activity.services import Ref
from network.db import insert_or_get, utcnow
from network.errors import Forbidden, Invalid, NotFound
from network.library import queries
from network.library.models import (
    TAKEN_UP,
    Adoption,
    AdoptionStatus,
    EntryStatus,
    LibraryEntry,
    LibraryTag,
    LibraryVersion,
)
from network.organisations.models import Organisation
from network.preconditions import IfMatch, bump_version
from network.problems import queries as problem_queries
from network.problems.models import Comment
from network.problems.services import tags_of
from network.safety import excerpt, refuse_nhs_numbers, render_markdown
from network.text import clean_name
from network.uow import UnitOfWork
from network.workstreams import queries as workstream_queries
from network.workstreams.models import (
    Action,
    ActionStatus,
    Meeting,
    MeetingStatus,
    WorkstreamStatus,
)

# Statuses a withdrawn entry still takes: a practice may say it stopped, or declined it.
AFTER_WITHDRAWAL = (AdoptionStatus.stopped, AdoptionStatus.declined)
# Where an entry may go from where it is.
_MOVES = {
    EntryStatus.draft: {EntryStatus.published},
    EntryStatus.published: {EntryStatus.withdrawn},
    EntryStatus.withdrawn: {EntryStatus.published},
}


def set_tags(uow: UnitOfWork, entry: LibraryEntry, tags: list[str]) -> None:
    uow.session.execute(sql_delete(LibraryTag).where(LibraryTag.entry_id == entry.id))
    uow.session.add_all(LibraryTag(entry_id=entry.id, tag=t) for t in tags)
    entry.tags = tags


def _snapshot(
    uow: UnitOfWork, principal: Principal, entry: LibraryEntry, change_note: str | None
) -> None:
    """The entry as it now stands becomes its next version."""
    uow.session.add(
        LibraryVersion(
            entry_id=entry.id,
            number=entry.latest_version,
            author_id=principal.person_id,
            title=entry.title,
            summary=entry.summary,
            body=entry.body,
            body_html=entry.body_html,
            tags=list(entry.tags),
            status=entry.status,
            change_note=change_note,
            created_at=entry.updated_at,
        )
    )


def _record(
    uow: UnitOfWork,
    principal: Principal,
    entry: LibraryEntry,
    verb: str,
    *,
    practice_id: int | None = None,
    **facts: object,
) -> None:
    """Activity of an entry people can see: nothing while it is a draft."""
    if entry.status is EntryStatus.draft:
        return
    thread = Ref("library_entry", entry.id)
    activity.record(
        uow,
        principal,
        verb,
        thread,
        thread=thread,
        board_id=entry.organisation_id,
        data={"title": entry.title, **facts},
        practice_id=practice_id,
    )


def create(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int,
    title: str,
    summary: str,
    body: str,
    tags: list[str] | None = None,
    review_by: date | None = None,
    source_problem_id: int | None = None,
    source_workstream_id: int | None = None,
    change_note: str | None = None,
) -> LibraryEntry:
    """A draft entry in an organisation's library, by anyone who reads it; its first version."""
    access.visible_chain(
        uow.session, principal, organisation_id, what="Organisation", field="organisation_id"
    )
    if not access.can_post_on_board(principal, organisation_id):
        raise Forbidden("You write in the library of organisations you belong to.")
    if source_problem_id is not None and source_workstream_id is not None:
        raise Invalid("An entry has one source: a problem or a workstream.", field="source")
    if source_problem_id is not None:
        problem_queries.get(uow, principal, source_problem_id)
    if source_workstream_id is not None:
        workstream_queries.get(uow, principal, source_workstream_id)
    title = clean_name(title, field="title")
    tags = tags_of(tags)
    refuse_nhs_numbers(
        [
            ("summary", summary),
            ("body", body),
            ("tags", " ".join(tags)),
            ("change_note", change_note),
        ]
    )
    now = utcnow()
    entry = LibraryEntry(
        organisation_id=organisation_id,
        author_id=principal.person_id,
        title=title,
        summary=summary.strip(),
        body=body,
        body_html=render_markdown(body),
        tags=tags,
        status=EntryStatus.draft,
        review_by=review_by,
        source_problem_id=source_problem_id,
        source_workstream_id=source_workstream_id,
        latest_version=1,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(entry)
    uow.session.flush()
    set_tags(uow, entry, tags)
    _snapshot(uow, principal, entry, change_note or "First draft.")
    uow.session.flush()
    return entry


def update(
    uow: UnitOfWork,
    principal: Principal,
    entry_id: int,
    *,
    if_match: IfMatch | None,
    change_note: str | None = None,
    withdrawn_reason: str | None = None,
    **changes: Any,
) -> LibraryEntry:
    """A new version of an entry (its author or moderators), if unchanged since the version
    the caller names. Publishing, withdrawing (with a reason) and publishing again are changes
    of `status`, and versions too."""
    view = queries.get(uow, principal, entry_id)
    entry = view.entry
    if not view.rights.edit:
        raise Forbidden("Only the entry's author and its organisation's administrators edit it.")
    if_match = preconditions.require(if_match, "library entry")
    if "title" in changes:
        changes["title"] = clean_name(str(changes["title"]), field="title")
    if "tags" in changes:
        changes["tags"] = tags_of(changes["tags"])
    if "summary" in changes:
        changes["summary"] = str(changes["summary"]).strip()
    refuse_nhs_numbers(
        [
            ("summary", changes.get("summary")),
            ("body", changes.get("body")),
            ("tags", " ".join(changes.get("tags") or [])),
            ("change_note", change_note),
            ("withdrawn_reason", withdrawn_reason),
        ]
    )
    changes = {k: v for k, v in changes.items() if v != getattr(entry, k)}
    status = EntryStatus(changes["status"]) if "status" in changes else None
    if status is not None and status not in _MOVES[entry.status]:
        raise Invalid(f"A {entry.status.value} entry cannot become {status.value}.", field="status")
    if status is EntryStatus.withdrawn and not (withdrawn_reason or "").strip():
        raise Invalid("Say why it is withdrawn.", field="withdrawn_reason")
    if withdrawn_reason is not None and status is not EntryStatus.withdrawn:
        raise Invalid("A reason goes with withdrawing it.", field="withdrawn_reason")
    if not changes:
        preconditions.check(entry, if_match)  # a stale tag is still refused
        return entry  # nothing changes: no new version, no activity
    bump_version(uow.session, entry, if_match)
    for name in ("title", "summary", "tags", "review_by"):
        if name in changes:
            if name == "tags":
                set_tags(uow, entry, changes["tags"])
            else:
                setattr(entry, name, changes[name])
    if "body" in changes:
        entry.body = str(changes["body"])
        entry.body_html = render_markdown(entry.body)
    was = entry.status
    now = utcnow()
    if status is not None:
        entry.status = status
        entry.withdrawn_reason = withdrawn_reason.strip() if withdrawn_reason else None
        if status is EntryStatus.published and entry.published_at is None:
            entry.published_at = now
    entry.updated_at = now
    entry.latest_version += 1
    uow.session.flush()
    _snapshot(uow, principal, entry, change_note)
    if status is EntryStatus.withdrawn:
        _record(uow, principal, entry, "library_withdrawn", excerpt=entry.withdrawn_reason)
    elif status is EntryStatus.published and was is EntryStatus.draft:
        _record(uow, principal, entry, "library_published", version=entry.latest_version)
    else:
        _record(
            uow,
            principal,
            entry,
            "library_updated",
            version=entry.latest_version,
            excerpt=excerpt(change_note) if change_note else None,
        )
    uow.session.flush()
    return entry


def promote(
    uow: UnitOfWork,
    principal: Principal,
    *,
    problem_id: int | None = None,
    workstream_id: int | None = None,
) -> LibraryEntry:
    """A draft made from what worked: a problem's accepted idea (by the problem's author or its
    board's moderators) or a completed workstream (by its managers), in the source's
    organisation, naming its source."""
    if (problem_id is None) == (workstream_id is None):
        raise Invalid("Name a problem_id or a workstream_id.", field="problem_id")
    if problem_id is not None:
        view = problem_queries.get(uow, principal, problem_id)
        problem = view.problem
        if not view.can_edit:
            raise Forbidden("Only the problem's author and its board's administrators promote it.")
        idea = (
            uow.session.get(Comment, problem.accepted_comment_id)
            if problem.accepted_comment_id
            else None
        )
        if idea is None or idea.hidden:
            raise Invalid("The problem has no accepted idea to promote.", field="problem_id")
        body = f"## The problem\n\n{problem.body}\n\n## What worked\n\n{idea.body}\n"
        return create(
            uow,
            principal,
            organisation_id=problem.board_id,
            title=problem.title,
            summary=excerpt(idea.body),
            body=body,
            tags=list(problem.tags),
            source_problem_id=problem.id,
            change_note="Promoted from the problem's accepted idea.",
        )
    assert workstream_id is not None
    ws_view = workstream_queries.get(uow, principal, workstream_id)
    workstream = ws_view.workstream
    if not ws_view.rights.manage:
        raise Forbidden("Only the workstream's managers promote it.")
    if workstream.status is not WorkstreamStatus.completed:
        raise Invalid("Only a completed workstream is promoted.", field="workstream_id")
    decisions = [
        d
        for notes in uow.session.scalars(
            select(Meeting.decisions)
            .where(Meeting.workstream_id == workstream.id, Meeting.status == MeetingStatus.held)
            .order_by(Meeting.starts_at)
        )
        for d in notes
    ]
    done = uow.session.scalars(
        select(Action.title)
        .where(
            Action.workstream_id == workstream.id,
            Action.status == ActionStatus.done,
            Action.hidden.is_(False),
        )
        .order_by(Action.completed_at, Action.id)
    ).all()
    parts = [f"## Purpose\n\n{workstream.purpose}"]
    if workstream.aim:
        parts.append(f"## Aim\n\n{workstream.aim}")
    if decisions:
        parts.append("## Decisions\n\n" + "\n".join(f"- {d}" for d in decisions))
    if done:
        parts.append("## What was done\n\n" + "\n".join(f"- {t}" for t in done))
    return create(
        uow,
        principal,
        organisation_id=workstream.organisation_id,
        title=workstream.title,
        summary=excerpt(workstream.aim or workstream.purpose),
        body="\n\n".join(parts) + "\n",
        source_workstream_id=workstream.id,
        change_note="Promoted from the completed workstream.",
    )


def set_adoption(
    uow: UnitOfWork,
    principal: Principal,
    entry_id: int,
    practice_id: int,
    *,
    status: AdoptionStatus,
    note: str | None = None,
) -> tuple[Adoption, bool]:
    """What a practice did with an entry, said by its people: (row, created). Counted under the
    entry's row lock, so simultaneous changes never lose a count."""
    status = AdoptionStatus(status)
    view = queries.get(uow, principal, entry_id)
    if uow.session.get(Organisation, practice_id) is None:
        raise NotFound(f"Practice {practice_id} not found.")
    if practice_id not in principal.practices:
        raise Forbidden("Only the practice's own people say what it did with an entry.")
    entry = view.entry
    if not rules.in_scope(uow.session, practice_id, entry):
        raise Invalid("This entry is not for that practice.", field="practice_id")
    if entry.status is EntryStatus.draft:
        raise Invalid("A draft is adopted once it is published.", field="status")
    if entry.status is EntryStatus.withdrawn and status not in AFTER_WITHDRAWAL:
        raise Invalid("A withdrawn entry can only be stopped or declined.", field="status")
    refuse_nhs_numbers([("note", note)])
    # Hold the entry: adoption changes to it take turns (PostgreSQL; SQLite writes one at a time).
    uow.session.execute(
        select(LibraryEntry.id).where(LibraryEntry.id == entry.id).with_for_update()
    )
    uow.session.refresh(entry)
    now = utcnow()
    fresh = Adoption(
        entry_id=entry.id,
        practice_id=practice_id,
        status=status,
        version=entry.latest_version,
        note=note,
        set_by_id=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    row, created = insert_or_get(
        uow.session, fresh, lambda: uow.session.get(Adoption, (entry.id, practice_id))
    )
    if not created:
        if row.status is status and row.note == note and row.version == entry.latest_version:
            return row, False
        row.status, row.note, row.version = status, note, entry.latest_version
        row.set_by_id, row.updated_at = principal.person_id, now
    uow.session.flush()
    taken_up = (
        select(func.count())
        .select_from(Adoption)
        .where(Adoption.entry_id == entry.id, Adoption.status.in_(TAKEN_UP))
        .scalar_subquery()
    )
    uow.session.execute(
        sql_update(LibraryEntry)
        .where(LibraryEntry.id == entry.id)
        .values(adopted_count=taken_up)
        .execution_options(synchronize_session=False)
    )
    uow.session.expire(entry)
    practice = uow.session.get_one(Organisation, practice_id)
    _record(
        uow,
        principal,
        entry,
        "library_adoption",
        practice_id=practice_id,
        practice=practice.name,
        status=status.value,
        excerpt=excerpt(note) if note else None,
    )
    uow.session.flush()
    return row, created
