"""What a workstream's changes record in the activity outbox: one thread per workstream, on
its owner's board."""

from __future__ import annotations

from network.access import Principal
from network.activity import services as activity
from network.activity.services import Ref
from network.uow import UnitOfWork
from network.workstreams.models import Workstream


def shown_practice(principal: Principal, practice_id: int | None) -> int | None:
    """The practice shown beside the actor: the one acted for, when it is theirs (a manager
    acting for another practice is shown without one)."""
    return practice_id if practice_id in principal.practices else None


def record(
    uow: UnitOfWork,
    principal: Principal,
    workstream: Workstream,
    verb: str,
    *,
    subject: Ref | None = None,
    practice_id: int | None = None,
    **facts: object,
) -> None:
    thread = Ref("workstream", workstream.id)
    activity.record(
        uow,
        principal,
        verb,
        subject or thread,
        thread=thread,
        board_id=workstream.organisation_id,
        data={"title": workstream.title, **facts},
        practice_id=practice_id,
    )
