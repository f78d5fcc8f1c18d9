"""What moderation of every feature shares: a reader's report, and redaction of a text as a
reader would recognise it. Each feature decides who moderates what (`network/access/`) and
which of its rows hold text."""

from __future__ import annotations

import re
from collections.abc import Callable

from network.access import Principal
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
