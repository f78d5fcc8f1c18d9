"""Workstream changes by two transactions at once, on PostgreSQL (where they truly overlap): a
practice joins once, leaves once, a problem is taken on once, a huddle is stored once per time,
a decision becomes one action — and the activity says so once."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from network.access import load_principal
from network.activity.models import Activity
from network.db import make_engine, make_session_factory
from network.errors import Conflict, DomainError
from network.people.models import Person, Role
from network.problems import services as problem_services
from network.uow import UnitOfWork
from network.workstreams import actions, huddles, services
from network.workstreams.models import (
    Action,
    LinkedProblem,
    Meeting,
    MeetingStatus,
    Participation,
)
from tests import factories


@pytest.fixture
def world(committed_database_url):
    """A PCN with a practice, the PCN's administrator (who works at the practice) and a
    workstream with a problem to take on, all committed."""
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as setup:
        fed = factories.organisation(setup.session, "federation")
        pcn = factories.organisation(setup.session, "pcn", fed)
        practice = factories.organisation(setup.session, "practice", pcn)
        manager = factories.person(setup.session, member_of=practice)
        factories.membership(setup.session, manager, pcn, Role.admin)
        principal = load_principal(setup.session, manager)
        problem = problem_services.create(
            setup, principal, board_id=pcn.id, title="Letters", body="Five PDFs."
        )
        workstream = services.create(
            setup, principal, organisation_id=pcn.id, title="Workflow", purpose="Fewer letters."
        )
        setup.commit()
        ids = {
            "manager": manager.id,
            "practice": practice.id,
            "problem": problem.id,
            "workstream": workstream.id,
        }
    yield factory, ids
    engine.dispose()


def _at_once(factory, person_id: int, change, n: int = 4) -> list:
    """Run `change(uow, principal)` in `n` threads released together, each in its own unit of
    work that commits; returns what each returned or raised."""
    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def run(i: int) -> None:
        try:
            with UnitOfWork(factory) as uow:
                principal = load_principal(uow.session, uow.session.get_one(Person, person_id))
                barrier.wait(5)
                outcomes[i] = change(uow, principal)
                uow.commit()
        except DomainError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def _count(factory, stmt) -> int:
    with UnitOfWork(factory) as uow:
        return uow.session.scalar(stmt)


def _activity(factory, workstream_id: int, verb: str) -> int:
    return _count(
        factory,
        select(func.count())
        .select_from(Activity)
        .where(
            Activity.thread_type == "workstream",
            Activity.thread_id == workstream_id,
            Activity.verb == verb,
        ),
    )


def test_a_practice_joins_once_when_asked_four_times_at_once(world):
    factory, ids = world
    outcomes = _at_once(
        factory,
        ids["manager"],
        lambda uow, p: services.join(uow, p, ids["workstream"], ids["practice"])[1],
    )
    assert sorted(outcomes) == [False, False, False, True]
    assert _count(factory, select(func.count()).select_from(Participation)) == 1
    assert _activity(factory, ids["workstream"], "practice_joined") == 1


def test_a_practice_leaves_once_when_asked_four_times_at_once(world):
    factory, ids = world
    with UnitOfWork(factory) as uow:
        manager = load_principal(uow.session, uow.session.get_one(Person, ids["manager"]))
        services.join(uow, manager, ids["workstream"], ids["practice"])
        uow.commit()
    outcomes = _at_once(
        factory,
        ids["manager"],
        lambda uow, p: services.leave(uow, p, ids["workstream"], ids["practice"]),
    )
    assert sum(isinstance(o, list) for o in outcomes) == 1
    assert sum(isinstance(o, DomainError) for o in outcomes) == 3
    assert _activity(factory, ids["workstream"], "practice_left") == 1


def test_a_problem_is_taken_on_once_when_linked_four_times_at_once(world):
    factory, ids = world
    outcomes = _at_once(
        factory,
        ids["manager"],
        lambda uow, p: services.link_problem(uow, p, ids["workstream"], ids["problem"]),
    )
    assert sorted(outcomes) == [False, False, False, True]
    assert _count(factory, select(func.count()).select_from(LinkedProblem)) == 1
    assert _activity(factory, ids["workstream"], "problem_linked") == 1


def test_one_huddle_per_time_when_stored_four_times_at_once(world):
    factory, ids = world
    at = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    outcomes = _at_once(
        factory,
        ids["manager"],
        lambda uow, p: huddles.create_meeting(uow, p, ids["workstream"], starts_at=at).id,
    )
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, int))
    assert _count(factory, select(func.count()).select_from(Meeting)) == 1
    assert _activity(factory, ids["workstream"], "meeting_scheduled") == 1


def test_a_decision_becomes_one_action_when_asked_four_times_at_once(world):
    factory, ids = world
    with UnitOfWork(factory) as uow:
        manager = load_principal(uow.session, uow.session.get_one(Person, ids["manager"]))
        meeting = huddles.create_meeting(
            uow,
            manager,
            ids["workstream"],
            starts_at=datetime(2026, 11, 24, 12, 30, tzinfo=UTC),
            status=MeetingStatus.held,
            decisions=["Scan letters at source"],
        )
        uow.commit()
    outcomes = _at_once(
        factory,
        ids["manager"],
        lambda uow, p: actions.action_from_decision(uow, p, ids["workstream"], meeting.id, 0),
    )
    assert len({action.id for action, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False, False, False, True]
    assert _count(factory, select(func.count()).select_from(Action)) == 1
    assert _activity(factory, ids["workstream"], "action_added") == 1


def test_a_point_posted_four_times_at_once_is_one_point_the_last_value(world):
    from datetime import date

    from network.measures import services as measures
    from network.measures.models import MeasurePoint

    factory, ids = world
    with UnitOfWork(factory) as uow:
        manager = load_principal(uow.session, uow.session.get_one(Person, ids["manager"]))
        services.join(uow, manager, ids["workstream"], ids["practice"])
        measure = measures.create(
            uow, manager, ids["workstream"], name="Letters", unit="letters", better="down"
        )
        uow.commit()
    period = date(2026, 11, 30)
    outcomes = _at_once(
        factory,
        ids["manager"],
        lambda uow, p: measures.post_points(
            uow,
            p,
            ids["workstream"],
            measure.id,
            [measures.PointIn(period, 40.0, ids["practice"])],
        ),
    )
    assert [o.count for o in outcomes] == [1, 1, 1, 1]  # none is a primary-key error
    assert _count(factory, select(func.count()).select_from(MeasurePoint)) == 1


def test_a_signal_four_posts_complete_at_once_is_announced_once(world):
    from datetime import date, timedelta

    from network.measures import services as measures

    factory, ids = world
    weeks = [date(2026, 9, 7) + timedelta(weeks=k) for k in range(7)]
    with UnitOfWork(factory) as uow:
        manager = load_principal(uow.session, uow.session.get_one(Person, ids["manager"]))
        services.join(uow, manager, ids["workstream"], ids["practice"])
        measure = measures.create(
            uow, manager, ids["workstream"], name="Letters", unit="letters", better="down"
        )
        six = [measures.PointIn(w, 20.0 - k, ids["practice"]) for k, w in enumerate(weeks[:6])]
        assert measures.post_points(uow, manager, ids["workstream"], measure.id, six).signals == []
        uow.commit()
    # The seventh falling point completes a trend: posted four times at once, each post judges
    # the series as the one before it left it, so the first announces it and the rest do not.
    outcomes = _at_once(
        factory,
        ids["manager"],
        lambda uow, p: measures.post_points(
            uow,
            p,
            ids["workstream"],
            measure.id,
            [measures.PointIn(weeks[6], 14.0, ids["practice"])],
        ),
    )
    assert sorted(len(o.signals) for o in outcomes) == [0, 0, 0, 2]  # the network's, the practice's
    assert _activity(factory, ids["workstream"], "measure_signal") == 2
