"""`commons seed bench`: the benchmark data set keeps every denormalised count true to its rows
and writes text as the services do, and the hot list answers for the practice member the command
prints."""

import random
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from api.cli import main
from network.access import Anonymity
from network.activity.descriptions import describe, facts
from network.activity.models import Activity
from network.library.models import TAKEN_UP, Adoption, LibraryEntry, LibraryVersion
from network.measures.models import Measure, MeasurePoint
from network.organisations.models import Organisation
from network.organisations.ods.names import display_name
from network.organisations.ods.parsing import PracticeStatus, read_practices
from network.people.models import Membership, Person
from network.problems.models import AffectedPractice, Comment, Problem, ProblemTag
from network.problems.services import tags_of
from network.safety import excerpt, render_markdown
from network.seed import bench, practices
from network.seed.bulk import BulkWriter
from network.workstreams import meetings
from network.workstreams.models import Action, Meeting, Workstream

SAMPLE = Path(__file__).parents[1] / "data" / "ods" / "epraccur-sample.csv"
SCALE_ARGS = {"T": ["--scale", "T"], "NT": ["--scale", "NT", "--epraccur", str(SAMPLE)]}


def _seed(app, scale: str = "T") -> str:
    result = app.test_cli_runner().invoke(main, args=["seed", "bench", *SCALE_ARGS[scale]])
    assert result.exit_code == 0, result.output
    found = re.search(r"practice member for benchmarks: (\S+)", result.output)
    assert found, result.output
    return found.group(1)


@pytest.mark.parametrize("scale", ["T", "NT"])
def test_counts_agree_with_rows(app, session, scale):
    _seed(app, scale)
    problems = session.scalars(select(Problem)).all()
    assert len(problems) == {"T": 200, "NT": 300}[scale]
    affected = dict(
        session.execute(
            select(AffectedPractice.problem_id, func.count()).group_by(AffectedPractice.problem_id)
        ).all()
    )
    comments = dict(
        session.execute(select(Comment.problem_id, func.count()).group_by(Comment.problem_id)).all()
    )
    assert sum(comments.values()) == {"T": 1_000, "NT": 1_500}[scale]
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
        # The board is the author's practice, its PCN or its federation.
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


def test_the_national_tree_is_the_files_active_practices_in_pcns_under_federations(app, session):
    _seed(app, "NT")
    records = read_practices(SAMPLE)
    active = {r.code: r for r in records if r.is_gp_practice and r.status == PracticeStatus.active}
    practices = session.scalars(select(Organisation).where(Organisation.kind == "practice")).all()
    assert {p.ods_code for p in practices} == set(active)  # every active GP practice, no other
    for p in practices:
        record = active[p.ods_code]
        assert (p.name, p.source_name) == (display_name(record.name), record.name.strip())
        assert p.postcode == record.postcode
    federations = session.scalars(
        select(Organisation).where(Organisation.kind == "federation")
    ).all()
    assert sorted(f.name for f in federations) == ["Bench Federation NT", "Bench Federation NT-02"]
    pcns = session.scalars(select(Organisation).where(Organisation.kind == "pcn")).all()
    sizes = Counter(p.parent_id for p in practices)
    assert all(sizes[pcn.id] >= 2 for pcn in pcns)  # a PCN of neighbouring practices
    assert {pcn.parent_id for pcn in pcns} == {f.id for f in federations}
    # Each federation and each PCN has an administrator; 6 people a practice.
    admins = set(
        session.scalars(select(Membership.organisation_id).where(Membership.role == "admin"))
    )
    assert {f.id for f in federations} | {p.id for p in pcns} <= admins
    assert session.scalar(select(func.count(Person.id))) == 6 * len(practices)
    # A federation board's problems come from its own practices.
    federation_of = {pcn.id: pcn.parent_id for pcn in pcns}
    for problem in session.scalars(
        select(Problem).where(Problem.board_id.in_([f.id for f in federations]))
    ):
        practice = session.get_one(Organisation, problem.author_practice_id)
        assert federation_of[practice.parent_id] == problem.board_id


def test_the_shipped_national_file_gives_englands_shape():
    records = bench._epraccur(bench.EPRACCUR)
    orgs = practices.national(
        random.Random(1),
        records,
        federation="F",
        federations=42,
        first_id=1,
        founded=datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert len(orgs.practice_ids) == 6_830
    assert len(orgs.federation_ids) == 42
    assert 1_100 <= len(orgs.pcn_ids) <= 1_400  # England has about 1,250 PCNs
    per_federation = [len(members) for members in orgs.practices_in.values()]
    assert min(per_federation) >= 80 and max(per_federation) <= 300
    assert len({row["ods_code"] for row in orgs.rows if row["ods_code"]}) == 6_830


def test_seeding_the_national_tree_twice_refuses(app, session):
    _seed(app, "NT")
    again = app.test_cli_runner().invoke(main, args=["seed", "bench", *SCALE_ARGS["NT"]])
    assert again.exit_code != 0 and "already exists" in again.output


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


def test_the_national_shape_has_joint_work_the_api_serves(app, client, session):
    """Workstreams with practices, actions, huddles on their rule and measures; a library
    whose counts agree with its rows; activity every description reads. The pages issue 22
    times answer for a PCN director over HTTP."""
    _seed(app, "NT")
    workstreams = session.scalars(select(Workstream)).all()
    assert workstreams
    for ws in workstreams:
        assert meetings.parse_rule(ws.meeting_rule) == ws.meeting_rule
    for meeting in session.scalars(select(Meeting)):
        ws = session.get_one(Workstream, meeting.workstream_id)
        assert meetings.is_occurrence(ws, meeting.starts_at)
    assert session.scalar(select(func.count(Action.id))) > len(workstreams)
    assert session.scalar(select(func.count()).select_from(MeasurePoint)) > 0
    for entry in session.scalars(select(LibraryEntry)):
        statuses = session.scalars(select(Adoption.status).where(Adoption.entry_id == entry.id))
        assert entry.adopted_count == sum(s in TAKEN_UP for s in statuses)
        numbers = session.scalars(
            select(LibraryVersion.number).where(LibraryVersion.entry_id == entry.id)
        ).all()
        assert sorted(numbers) == list(range(1, entry.latest_version + 1))
    for verb, data in session.execute(select(Activity.verb, Activity.data)):
        assert facts(verb, **data) == data  # the facts the verb asks for, and no more
        assert describe(verb, data, excerpts=True)

    ws = next(w for w in workstreams if w.status == "active")
    measure = session.scalars(select(Measure).where(Measure.workstream_id == ws.id)).first()
    director = session.scalar(
        select(Person.email)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == ws.organisation_id, Membership.role == "admin")
    )
    token = app.test_cli_runner().invoke(main, args=["token", director, "--minutes", "60"])
    headers = {"Authorization": f"Bearer {token.output.strip()}"}
    base = f"/api/v1/workstreams/{ws.id}"
    pages = [base, f"{base}/actions", f"{base}/agenda", "/api/v1/library?q=huddle"]
    if measure is not None:
        pages.append(f"{base}/measures/{measure.id}/spc")
    for page in pages:
        response = client.get(page, headers=headers)
        assert response.status_code == 200, (page, response.get_json())
    assert client.get("/api/v1/library?q=huddle", headers=headers).get_json()["items"]


def test_seeding_raises_everything_once_and_leaves_the_triggers_on(app, session):
    """PostgreSQL holds the content-scope triggers while millions of rows go in (each would run
    at commit), then raises `all` once; SQLite's triggers run row by row as ever."""
    from network.content import VERSIONED_TABLES, read_versions

    before = read_versions(session, ["all"])["all"]
    _seed(app, "NT")
    assert read_versions(session, ["all"])["all"] > before
    if session.get_bind().dialect.name == "postgresql":
        enabled = dict(
            session.execute(
                text(
                    "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c"
                    " ON c.oid = t.tgrelid WHERE t.tgname = 'content_scope_' || c.relname"
                )
            ).all()
        )
        assert enabled == dict.fromkeys(VERSIONED_TABLES, "O")
