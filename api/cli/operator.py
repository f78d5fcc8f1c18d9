"""What every operator command shares: a unit of work of its own (origin "cli") and errors
reported on one line."""

from __future__ import annotations

from api.context import commons
from network.uow import Origin, UnitOfWork


def unit_of_work() -> UnitOfWork:
    c = commons()
    return UnitOfWork(c.session_factory, c.dispatch, Origin("cli"))


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
