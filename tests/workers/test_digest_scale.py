"""Digests at scale (issue 22, point 3): a digest costs the same SQL statements whoever it is
for — one board and no past, or many boards, follows, mutes, actions, huddles and history —
and a chart is drawn once per measure and data, not once per person."""

from __future__ import annotations

from datetime import timedelta

import pytest

from network.access import load_principal
from network.db import utcnow
from network.digests import follows
from network.digests.models import ThreadChoice
from network.measures import charts
from network.uow import UnitOfWork
from tests import factories
from tests.workers.conftest import read_outbox
from workers import digests

HUDDLE = "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=12;BYMINUTE=30"


def _uow(session) -> UnitOfWork:
    return UnitOfWork(lambda: session)  # never closed: that would roll the test back


@pytest.fixture
def readers(mailing, net, session):
    """`quiet`: a member of one practice, with one piece of news and no past. `busy`: a member
    of three practices and a PCN, who wrote problems and comments, follows and mutes threads,
    leads a workstream with huddles and owns actions due and overdue, with news on every
    board they read."""
    quiet = factories.person(session, name="Quiet Reader", member_of=net.practice3)
    busy = factories.person(session, name="Busy Reader", member_of=net.practice1)
    for org in (net.practice2, net.practice3, net.pcn2):
        factories.membership(session, busy, org)
    others = [net.members[k] for k in ("practice1", "practice2", "practice3", "fed_a", "pcn1")]
    threads = []
    for n, author in enumerate(others * 3):
        board = [net.fed_a, net.pcn1, net.pcn2, net.practice1, net.practice2][n % 5]
        if board.id in load_principal(session, author).belongs:
            threads.append(factories.problem(session, author, board, title=f"News {n}"))
    for n in range(6):
        mine = factories.problem(session, busy, net.practice1, title=f"Mine {n}")
        factories.comment(session, net.members["practice1"], mine, body=f"Reply {n}")
        factories.comment(session, busy, threads[n], body=f"My comment {n}")
    uow = _uow(session)
    principal = load_principal(session, busy)
    for thread in threads[6:9]:
        follows.choose(uow, principal, "problem", thread.id, ThreadChoice.follow)
    for thread in threads[9:11]:
        follows.choose(uow, principal, "problem", thread.id, ThreadChoice.mute)
    factories.affected(session, net.members["practice2"], threads[0])
    work = factories.workstream(session, net.admins["pcn1"], net.pcn1, title="Letters", lead=busy)
    work.meeting_rule = HUDDLE
    factories.take_part(session, net.admins["pcn1"], work, net.practice1)
    today = utcnow().date()
    for days in (-3, 1, 2, 30):
        factories.action(
            session,
            busy,
            work,
            owner=busy,
            practice=net.practice1,
            title=f"Action {days}",
            due_on=today + timedelta(days=days),
        )
    session.flush()
    return quiet, busy


def test_a_digest_costs_the_same_statements_however_many_boards_follows_and_history(
    readers, count_statements, mailing
):
    quiet, busy = readers

    def statements(person) -> list[str]:
        with count_statements() as counter:
            assert digests.send_digest(person.id, now=utcnow()) == "sent"
        return counter.statements

    few, many = statements(quiet), statements(busy)
    assert len(few) == len(many), "\n".join(many)
    mails = {m["To"]: m for m in read_outbox(mailing.settings)}
    busy_text = mails[busy.email].get_body(preferencelist=("plain",)).get_content()
    # The busy reader's digest does hold all that: actions, huddles, what they follow.
    assert "overdue" in busy_text and "Huddle of" in busy_text
    assert "ON WHAT YOU FOLLOW" in busy_text
    assert "posted “Mine 0”" not in busy_text  # their own posts are not news to them
    assert "Reply 0" in busy_text  # but a reply in their thread is


def test_a_batch_costs_the_same_statements_as_one_digest(readers, count_statements, net):
    """Everything is read once per batch: two people cost what one does (marking each sent
    aside: a transaction per email, so a dying worker repeats at most one)."""
    quiet, busy = readers
    with count_statements() as one:
        assert digests.send_digests([quiet.id], now=utcnow()) == {quiet.id: "sent"}
    others = [net.members["practice2"], busy]
    with count_statements() as two:
        outcomes = digests.send_digests([p.id for p in others], now=utcnow())
    assert outcomes == {p.id: "sent" for p in others}
    marks = [s for s in two.statements if s.lstrip().startswith("UPDATE digest SET")]
    assert len(marks) == 2
    per_email = [s for s in one.statements if s.lstrip().startswith(("UPDATE digest SET", "SET"))]
    assert len(two.statements) - 2 * len(per_email) == len(one.statements) - len(per_email)


@pytest.fixture
def demo(mailing, session):
    from network.people.models import Person
    from network.seed.demo import seed_demo

    seed_demo(UnitOfWork(lambda: session))
    session.flush()
    return {p.email: p for p in session.query(Person)}


def test_a_chart_is_drawn_once_for_every_digest_that_shows_it_across_jobs(
    demo, mailing, monkeypatch
):
    drawn = []
    real = charts.png
    monkeypatch.setattr(charts, "png", lambda figure: drawn.append(1) or real(figure))
    amy = demo["amy.fletcher@demo.example"]
    # Each its own job, as a worker runs them: the second finds the first's chart.
    shown = []
    for person in demo.values():
        before = len(read_outbox(mailing.settings))
        digests.send(person.id, _period(person.id))
        mails = read_outbox(mailing.settings)
        if len(mails) > before:
            mine = [m for m in mails if m["To"] == person.email]
            if any(p.get_content_type() == "image/png" for p in mine[0].walk()):
                shown.append(person.email)
    assert amy.email in shown and len(shown) >= 2, shown
    assert len(drawn) == 1


def test_a_remembered_chart_is_drawn_again_when_its_data_changes(demo, mailing, session):
    from network.measures.models import MeasurePoint

    store = digests.chart_store()
    amy = demo["amy.fletcher@demo.example"]
    from network.digests import pictures, runs

    def images():
        uow = _uow(session)
        built = runs.prepare(
            uow, amy, now=utcnow(), public_url="http://x", api_url="http://x", secret="s"
        )
        return pictures.charts_of(uow, built, store)

    first = images()
    assert first and all(png[:4] == b"\x89PNG" for png in first.values())
    assert images() == first  # remembered
    key = next(iter(first))
    point = (
        session.query(MeasurePoint)
        .filter_by(measure_id=key.measure_id)
        .order_by(MeasurePoint.period.desc())
        .first()
    )
    point.value = point.value * 3 + 50
    session.flush()
    assert images() != first


def _period(person_id: int) -> str:
    from dispatch import runtime
    from network.digests import runs

    with runtime.unit_of_work() as uow:
        period = runs.current_period(uow, person_id, utcnow())
    assert period is not None
    return period
