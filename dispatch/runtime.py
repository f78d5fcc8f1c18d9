"""What a job needs to open its own unit of work: settings and a session factory.

The API configures it when jobs run inline (so they share its database), a worker process
builds it from the environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker

from network.config import Settings
from network.db import make_engine, make_session_factory
from network.uow import Dispatcher, Origin, UnitOfWork


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    session_factory: sessionmaker
    _dispatch: Dispatcher | None = field(default=None, compare=False)

    def dispatch(self) -> Dispatcher:
        """The dispatcher of the jobs a job asks for (the digest fan-out's), made on first use."""
        if self._dispatch is None:
            from dispatch.queues import make_dispatcher

            object.__setattr__(self, "_dispatch", make_dispatcher(self.settings))
        assert self._dispatch is not None
        return self._dispatch


_current: Runtime | None = None


def configure(settings: Settings, session_factory: sessionmaker) -> None:
    global _current
    _current = Runtime(settings, session_factory)


def current() -> Runtime:
    global _current
    if _current is None:
        settings = Settings.from_env()
        _current = Runtime(settings, make_session_factory(make_engine(settings.database_url)))
    return _current


def unit_of_work() -> UnitOfWork:
    """A job's own unit of work; the jobs it asks for go through the outbox like a request's."""
    rt = current()
    return UnitOfWork(rt.session_factory, rt.dispatch(), origin=Origin("worker"))
