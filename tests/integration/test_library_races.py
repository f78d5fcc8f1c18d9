"""Library changes by several transactions at once, on PostgreSQL (where they truly overlap):
adoption counts never lose a practice, a practice has one adoption however often it is said at
once, and two edits of one version make one new version."""

import threading

import pytest
from sqlalchemy import func, select

from network.access import load_principal
from network.db import make_engine, make_session_factory
from network.errors import DomainError
from network.library import services
from network.library.models import Adoption, LibraryEntry, LibraryVersion
from network.people.models import Person, Role
from network.preconditions import ANY_VERSION, IfMatch
from network.uow import UnitOfWork
from tests import factories


@pytest.fixture
def world(committed_database_url):
    """A PCN with four practices, a member of each, and a published PCN entry, committed."""
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as setup:
        fed = factories.organisation(setup.session, "federation")
        pcn = factories.organisation(setup.session, "pcn", fed)
        practices = [factories.organisation(setup.session, "practice", pcn) for _ in range(4)]
        people = [factories.person(setup.session, member_of=p) for p in practices]
        admin = factories.person(setup.session, member_of=pcn, role=Role.admin)
        principal = load_principal(setup.session, admin)
        entry = services.create(
            setup, principal, organisation_id=pcn.id, title="Docman", summary="S", body="B"
        )
        services.update(setup, principal, entry.id, if_match=ANY_VERSION, status="published")
        setup.commit()
        ids = {
            "entry": entry.id,
            "admin": admin.id,
            "people": [p.id for p in people],
            "practices": [p.id for p in practices],
        }
    yield factory, ids
    engine.dispose()


def _together(factory, calls) -> list:
    """Run each `(person_id, change)` in its own thread and unit of work, released together."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i: int, person_id: int, change) -> None:
        try:
            with UnitOfWork(factory) as uow:
                principal = load_principal(uow.session, uow.session.get_one(Person, person_id))
                barrier.wait(5)
                outcomes[i] = change(uow, principal)
                uow.commit()
        except DomainError as exc:
            outcomes[i] = exc

    threads = [
        threading.Thread(target=run, args=(i, person, change))
        for i, (person, change) in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_four_practices_adopting_at_once_are_all_counted(world):
    factory, ids = world

    def adopt(practice_id):
        return lambda uow, p: services.set_adoption(
            uow, p, ids["entry"], practice_id, status="adopted"
        )[1]

    calls = [
        (person, adopt(practice))
        for person, practice in zip(ids["people"], ids["practices"], strict=True)
    ]
    assert _together(factory, calls) == [True] * 4
    with UnitOfWork(factory) as uow:
        assert uow.session.get_one(LibraryEntry, ids["entry"]).adopted_count == 4


def test_one_practice_saying_it_four_times_at_once_has_one_adoption(world):
    factory, ids = world
    person, practice = ids["people"][0], ids["practices"][0]

    def adopt(uow, p):
        return services.set_adoption(uow, p, ids["entry"], practice, status="adapted")[1]

    outcomes = _together(factory, [(person, adopt)] * 4)
    assert sorted(outcomes) == [False, False, False, True]
    with UnitOfWork(factory) as uow:
        rows = uow.session.scalar(
            select(func.count()).select_from(Adoption).where(Adoption.entry_id == ids["entry"])
        )
        assert rows == 1
        assert uow.session.get_one(LibraryEntry, ids["entry"]).adopted_count == 1


def test_two_edits_of_one_version_make_one_new_version(world):
    factory, ids = world
    with UnitOfWork(factory) as uow:
        version = uow.session.get_one(LibraryEntry, ids["entry"]).version

    def edit(text):
        return lambda uow, p: (
            services.update(
                uow, p, ids["entry"], if_match=IfMatch(versions=frozenset({version})), body=text
            ).latest_version
        )

    outcomes = _together(factory, [(ids["admin"], edit("one")), (ids["admin"], edit("two"))])
    assert sorted(type(o).__name__ for o in outcomes) == ["PreconditionFailed", "int"]
    with UnitOfWork(factory) as uow:
        numbers = uow.session.scalars(
            select(LibraryVersion.number).where(LibraryVersion.entry_id == ids["entry"])
        ).all()
        assert sorted(numbers) == [1, 2, 3]
