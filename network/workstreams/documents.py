"""A huddle's papers as people pass them round: the agenda (to paste into an invite) and the
minutes (to file), as plain text and as a printable, self-contained HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from network.access import Principal
from network.access import workstreams as rules
from network.organisations.models import Organisation
from network.render import render
from network.uow import UnitOfWork
from network.workstreams import huddles, queries
from network.workstreams.agenda import Agenda
from network.workstreams.models import Action, Participation

Format = Literal["text", "html"]
_SUFFIX = {"text": "txt", "html": "html"}


@dataclass(frozen=True)
class Minutes:
    workstream: Any
    owner: Organisation
    meeting: huddles.MeetingView
    absent: list[Organisation]  # taking part at the time, not there
    actions: dict[int, queries.ActionView]  # by decision
    link: str


def minutes(
    uow: UnitOfWork, principal: Principal, workstream_id: int, meeting_id: int, *, public_url: str
) -> Minutes:
    """A stored huddle's minutes: who came, the notes, the decisions and their actions."""
    view = queries.get(uow, principal, workstream_id)
    meeting = huddles.meeting_view(uow, principal, workstream_id, meeting_id)
    # Practices taking part when it met (joined before it, not left before it).
    at = meeting.starts_at
    present = {o.id for o in meeting.attended}
    absent = list(
        uow.session.scalars(
            select(Organisation)
            .join(Participation, Participation.practice_id == Organisation.id)
            .where(
                Participation.workstream_id == workstream_id,
                Participation.joined_at <= at,
                (Participation.left_at.is_(None)) | (Participation.left_at > at),
                Organisation.id.not_in(sorted(present)),
            )
            .order_by(Organisation.name, Organisation.id)
        )
    )
    action_ids = [made.action_id for made in meeting.decision_actions]
    rows = uow.session.execute(
        queries.action_rows().where(Action.id.in_(action_ids), rules.action_shown())
    ).all()
    by_id = {row[0].id: queries.ActionView(*row) for row in rows}
    actions = {
        made.decision: by_id[made.action_id]
        for made in meeting.decision_actions
        if made.action_id in by_id
    }
    return Minutes(
        view.workstream,
        view.owner,
        meeting,
        absent,
        actions,
        f"{public_url}/workstreams/{workstream_id}",
    )


def render_minutes(paper: Minutes, fmt: Format) -> str:
    return render(f"minutes.{_SUFFIX[fmt]}", m=paper)


def render_agenda(agenda: Agenda, fmt: Format, *, unsubscribe_link: str | None = None) -> str:
    """The agenda to paste into an invite, or, with `unsubscribe_link`, the email sent before
    the huddle (which says how to stop them)."""
    return render(f"agenda.{_SUFFIX[fmt]}", a=agenda, unsubscribe_link=unsubscribe_link)
