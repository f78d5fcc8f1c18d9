"""`commons seed bench`: the benchmark data set keeps every denormalised count true to its rows
and writes text as the services do, and the hot list answers for the practice member the command
prints."""

import re

import pytest
from sqlalchemy import func, select

from api.cli import main
from network.access import Anonymity
from network.activity.descriptions import facts
from network.activity.models import Activity
from network.organisations.models import Organisation
from network.people.models import Membership, Person
from network.problems.models import AffectedPractice, Comment, Problem, ProblemTag
from network.problems.services import tags_of
from network.safety import excerpt, render_markdown
from network.seed.bulk import BulkWriter


def _seed(app) -> str:
    result = app.test_cli_runner().invoke(main, args=["seed", "bench", "--scale", "T"])
    assert result.exit_code == 0, result.output
    found = re.search(r"practice member for benchmarks: (\S+)", result.output)
    assert found, result.output
    return found.group(1)


def test_counts_agree_with_rows(app, session):
    _seed(app)
    problems = session.scalars(select(Problem)).all()
    assert len(problems) == 200
    affected = dict(
        session.execute(
            select(AffectedPractice.problem_id, func.count()).group_by(AffectedPractice.problem_id)
        ).all()
    )
    comments = dict(
        session.execute(select(Comment.problem_id, func.count()).group_by(Comment.problem_id)).all()
    )
    assert sum(comments.values()) == 1_000
    memberships = set(session.execute(select(Membership.person_id, Membership.organisation_id)))
    signals = session.execute(
        select(AffectedPractice.problem_id, AffectedPractice.practice_id)
    ).all()
    signalled = {(p, practice) for p, practice in signals}
    parents = dict(session.execute(select(Organisation.id, Organisation.parent_id)).all())
    for p in problems:
        # The author's practice counts as affected: by a signal, or, when the post hides the
        # practice, by the count alone (services.create).
        hidden = p.anonymity is Anonymity.practice
        assert p.affected_count == affected.get(p.id, 0) + hidden >= 1
        assert p.comment_count == comments.get(p.id, 0)
        assert (p.author_id, p.author_practice_id) in memberships
        assert ((p.id, p.author_practice_id) in signalled) is not hidden
        # The board is the author's practice, its PCN or the federation.
        chain = [p.author_practice_id, parents[p.author_practice_id]]
        chain.append(parents[chain[-1]])
        assert p.board_id in chain
        assert p.last_activity_at >= p.created_at and p.created_at.tzinfo is not None
        assert sorted(p.tags) == sorted(
            session.scalars(select(ProblemTag.tag).where(ProblemTag.problem_id == p.id))
        )
    # Every comment's author belongs to the practice it names.
    pairs = session.execute(select(Comment.author_id, Comment.author_practice_id)).all()
    assert all(tuple(pair) in memberships for pair in pairs)


def test_hot_list_answers_for_the_printed_member(app, client, session):
    email = _seed(app)
    assert session.scalar(select(Person.id).where(Person.email == email)) is not None
    token = app.test_cli_runner().invoke(main, args=["token", email, "--minutes", "60"])
    assert token.exit_code == 0, token.output
    headers = {"Authorization": f"Bearer {token.output.strip()}"}
    response = client.get("/api/v1/problems?sort=hot&limit=25", headers=headers)
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert len(items) == 25
    counts = [item["affected_count"] for item in items]
    assert counts == sorted(counts, reverse=True)
    assert response.get_json()["next_cursor"]


def test_a_second_run_refuses_with_one_line(app, session):
    _seed(app)
    again = app.test_cli_runner().invoke(main, args=["seed", "bench", "--scale", "T"])
    assert again.exit_code != 0
    assert again.output.strip().count("\n") == 0 and "already exists" in again.output


def test_rows_read_as_the_services_write_them(app, session):
    """Rendering, excerpts, tags and activity facts come from the services' own functions."""
    _seed(app)
    for p in session.scalars(select(Problem)):
        assert p.body_html == render_markdown(p.body)
        assert p.excerpt == excerpt(p.body)
        assert p.tags == tags_of(p.tags)
    for c in session.scalars(select(Comment)):
        assert c.body_html == render_markdown(c.body)
    posted = session.execute(
        select(Activity.data, Problem.title, Problem.excerpt).join(
            Problem, Problem.id == Activity.thread_id
        )
    ).all()
    assert len(posted) == 200
    assert all(data == facts("posted", title=t, excerpt=e) for data, t, e in posted)


def test_the_bulk_writer_refuses_rows_it_would_write_wrongly(session):
    bulk = BulkWriter(session.connection())
    with pytest.raises(ValueError, match="no column colour"):
        bulk.write(ProblemTag, [{"problem_id": 1, "colour": "red"}])
    with pytest.raises(ValueError, match="other columns than the first"):
        bulk.write(ProblemTag, [{"problem_id": 1, "tag": "it"}, {"problem_id": 2}])
