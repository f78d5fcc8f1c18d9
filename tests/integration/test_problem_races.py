"""Changes to one problem by two transactions at once, on PostgreSQL (where they truly overlap:
SQLite runs one writer at a time). Each change takes the problem's row first and then reads it,
so the second works on what the first committed, never on what it read before."""

import threading

import pytest
from sqlalchemy import select

from network.access import load_principal
from network.db import make_engine, make_session_factory
from network.errors import Conflict
from network.organisations.models import Organisation
from network.people.models import Person, Role
from network.preconditions import ANY_VERSION
from network.problems import moderation, services
from network.problems.models import Problem, ProblemRevision
from network.uow import UnitOfWork
from tests import factories


@pytest.fixture
def world(committed_database_url):
    """A PCN with a practice, its author, a colleague and the PCN's administrator, and one
    problem, all committed; yields the session factory and their ids."""
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as setup:
        fed = factories.organisation(setup.session, "federation")
        pcn = factories.organisation(setup.session, "pcn", fed)
        practice = factories.organisation(setup.session, "practice", pcn)
        author = factories.person(setup.session, member_of=practice)
        colleague = factories.person(setup.session, member_of=practice)
        moderator = factories.person(setup.session, member_of=practice)
        factories.membership(setup.session, moderator, pcn, Role.admin)
        problem = services.create(
            setup,
            load_principal(setup.session, author),
            board_id=pcn.id,
            title="Letters",
            body="First words about Jane Smithson.",
        )
        setup.commit()
        ids = {"author": author.id, "colleague": colleague.id, "moderator": moderator.id}
        ids["problem"] = problem.id
    yield factory, ids
    engine.dispose()


def _principal(uow: UnitOfWork, person_id: int):
    return load_principal(uow.session, uow.session.get_one(Person, person_id))


def _while_held(first: UnitOfWork, second_change) -> dict:
    """Run `second_change` in a thread while `first` holds the problem, then commit `first`;
    returns what the second change raised or returned once it ran."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = second_change()
        except Exception as exc:
            outcome["error"] = exc

    racer = threading.Thread(target=run)
    racer.start()
    racer.join(1.0)
    assert racer.is_alive(), "the second change waits for the first transaction"
    first.commit()
    racer.join(10)
    return outcome


def test_a_redaction_during_an_edit_redacts_the_edit_and_loses_nothing(world):
    factory, ids = world
    with UnitOfWork(factory) as editing, UnitOfWork(factory) as redacting:
        moderator = _principal(redacting, ids["moderator"])
        # The moderator's request has read the problem before the edit commits.
        redacting.session.get_one(Problem, ids["problem"])
        services.update(
            editing,
            _principal(editing, ids["author"]),
            ids["problem"],
            if_match=ANY_VERSION,
            body="Second words about Jane Smithson, and more.",
        )

        def redact():
            changed = moderation.redact(redacting, moderator, ids["problem"], text="Jane Smithson")
            redacting.commit()
            return changed

        outcome = _while_held(editing, redact)
    assert "error" not in outcome, outcome
    with factory() as session:
        problem = session.get_one(Problem, ids["problem"])
        assert problem.body == "Second words about [redacted], and more."
        history = session.scalars(select(ProblemRevision.body)).all()
        assert history == ["First words about [redacted]."]


def test_a_comment_during_the_authors_delete_stops_the_delete(world):
    factory, ids = world
    with UnitOfWork(factory) as commenting, UnitOfWork(factory) as deleting:
        author = _principal(deleting, ids["author"])
        deleting.session.get_one(Problem, ids["problem"])  # read: no comments yet
        services.add_comment(
            commenting, _principal(commenting, ids["colleague"]), ids["problem"], body="Same"
        )

        def delete():
            services.delete(deleting, author, ids["problem"])
            deleting.commit()

        outcome = _while_held(commenting, delete)
    assert isinstance(outcome.get("error"), Conflict), outcome
    with factory() as session:
        assert session.get_one(Problem, ids["problem"]).deleted_at is None


def test_hiding_during_an_edit_keeps_both(world):
    factory, ids = world
    with UnitOfWork(factory) as editing, UnitOfWork(factory) as hiding:
        moderator = _principal(hiding, ids["moderator"])
        hiding.session.get_one(Problem, ids["problem"])
        services.update(
            editing,
            _principal(editing, ids["author"]),
            ids["problem"],
            if_match=ANY_VERSION,
            title="Letters, edited",
        )

        def hide():
            moderation.set_hidden(hiding, moderator, ids["problem"], True)
            hiding.commit()

        outcome = _while_held(editing, hide)
    assert "error" not in outcome, outcome
    with factory() as session:
        problem = session.get_one(Problem, ids["problem"])
        assert (problem.title, problem.hidden, problem.version) == ("Letters, edited", True, 3)
        assert session.scalar(select(Organisation.id).limit(1)) is not None
