"""What moderation of every feature shares: a reader's report, and redaction of a text as a
reader would recognise it. Each feature decides who moderates what (`network/access/`) and
which of its rows hold text."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import ColumnElement, select

from network.access import Principal
from network.activity import services as activity
from network.audit import services as audit
from network.errors import Invalid
from network.problems.models import Report
from network.safety import refuse_nhs_numbers
from network.uow import UnitOfWork

DEFAULT_REPLACEMENT = "[redacted]"

# Between two words of the text, what a reader sees as one space: any white space (a new line,
# a non-breaking space, as a character or an entity) and Markdown emphasis around the words.
_GAP = r"(?:[*_~`]*(?:\s|&nbsp;|&#160;|&#x[aA]0;)+[*_~`]*)+"


def redaction_pattern(text: str) -> re.Pattern[str]:
    """The text to redact as a reader would recognise it: in any letter case (tags are stored in
    lower case, where "İ" is two characters), and with whatever white space or emphasis the
    writer put between its words."""
    forms = {" ".join(text.split()), " ".join(text.lower().split())}
    alternatives = (
        _GAP.join(re.escape(word) for word in form.split(" ")) for form in sorted(forms)
    )
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def redaction(text: str, replacement: str) -> tuple[re.Pattern[str], Callable[[str], str]]:
    """The pattern of `text` and the function that replaces it, once both are known to be
    sound: a text to remove, and a replacement that neither holds it nor an NHS number."""
    if not text.strip():
        raise Invalid("Give the text to remove.", field="text")
    pattern = redaction_pattern(text)
    if pattern.search(replacement):
        raise Invalid("The replacement must not contain the text.", field="replacement")
    refuse_nhs_numbers([("replacement", replacement)])

    def scrub(value: str) -> str:
        return pattern.sub(lambda _match: replacement, value)

    return pattern, scrub


def file_report(
    uow: UnitOfWork, principal: Principal, *, board_id: int, reason: str, **about: int | None
) -> Report:
    """A reader's report of something on a board, with a reason (`about`: the problem or
    workstream, and the part of it, the report is of)."""
    if not reason.strip():
        raise Invalid("Say why you are reporting it.", field="reason")
    refuse_nhs_numbers([("reason", reason)])
    row = Report(board_id=board_id, reporter_id=principal.person_id, reason=reason.strip(), **about)
    uow.session.add(row)
    uow.session.flush()
    return row


def record_hidden(
    uow: UnitOfWork,
    principal: Principal,
    hidden: bool,
    *,
    organisation_id: int,
    subject_type: str,
    subject_id: int,
) -> None:
    """The audit entry of hiding something, or showing it again."""
    audit.record_by(
        uow,
        principal,
        "moderation.hidden" if hidden else "moderation.unhidden",
        organisation_id=organisation_id,
        subject_type=subject_type,
        subject_id=subject_id,
    )


def finish_redaction(
    uow: UnitOfWork,
    principal: Principal,
    *,
    pattern: re.Pattern[str],
    scrub: Callable[[str], str],
    reports: ColumnElement[bool],
    thread: activity.Ref,
    organisation_id: int,
    changed: int,
) -> int:
    """What every redaction ends with: the thread's reports (`reports` selects them) and the
    facts its activity is described from, scrubbed; then the audit entry, which records that it
    happened and in how many places, never the text. Returns the places changed in all."""
    for row in uow.session.scalars(select(Report).where(reports)):
        if pattern.search(row.reason):
            row.reason = scrub(row.reason)
            changed += 1
    changed += activity.redact_thread(uow, thread, scrub)
    audit.record_by(
        uow,
        principal,
        "moderation.redacted",
        organisation_id=organisation_id,
        subject_type=thread.type,
        subject_id=thread.id,
        details={"places": changed},
    )
    uow.session.flush()
    return changed
