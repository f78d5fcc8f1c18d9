"""Migrations: one head, and a migrated schema that matches the models exactly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from network.db import Base, load_models
from network.migrate import alembic_config, include_name
from tests import factories


def test_migrations_have_a_single_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads: {heads}; merge them"


def test_models_match_the_migrated_schema(engine):
    load_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_every_revision_downgrades_and_upgrades_again(database_url, tmp_path):
    """Only on a scratch SQLite database: the shared test database stays at head."""
    from alembic import command

    from network.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """An empty database on the backend under test, beside the shared one (left at head)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    with factories.fresh_database(
        database_url, f"{make_url(database_url).database}_scratch"
    ) as url:
        yield url


def _federation_and_author(conn) -> None:
    """Federation 1 and person 1, the board and author that data migrations' tests post as."""
    conn.execute(
        text(
            "INSERT INTO organisation (id, kind, name, active, created_at, updated_at)"
            " VALUES (1, 'federation', 'Federation A', :yes, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)"
        ),
        {"yes": True},
    )
    conn.execute(
        text(
            "INSERT INTO person (id, email, name, staff_group, is_superuser, is_active,"
            " created_at) VALUES (1, 'ana@example.org', 'Ana', 'gp', :no, :yes,"
            " CURRENT_TIMESTAMP)"
        ),
        {"yes": True, "no": False},
    )


def test_0007_fills_in_the_excerpt_of_existing_problems(scratch_database_url):
    from network.db import make_engine
    from network.migrate import upgrade
    from network.safety import excerpt

    bodies = {
        1: "# Discharge letters\n\nThey arrive as **five** separate documents, see [the list](x).",
        2: "- one\n- two\n\n> quoted `code` ~~struck~~ | cell |",
        3: " ".join(f"Sentence {n} about referrals." for n in range(40)),
        4: "",
    }
    upgrade(scratch_database_url, revision="0006")
    engine = make_engine(scratch_database_url)
    try:
        with engine.begin() as conn:
            _federation_and_author(conn)
            conn.execute(
                text(
                    "INSERT INTO problem (id, board_id, author_id, anonymity, title, body,"
                    " body_html, tags, status, affected_count, comment_count, version, hidden,"
                    " created_at, updated_at, last_activity_at) VALUES (:id, 1, 1, 'none',"
                    " :title, :body, '', '[]', 'open', 0, 0, 1, :no, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                [
                    {"id": pid, "title": f"Problem {pid}", "body": body, "no": False}
                    for pid, body in bodies.items()
                ],
            )
        upgrade(scratch_database_url)
        with engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, excerpt FROM problem")).all())
    finally:
        engine.dispose()
    assert stored == {pid: excerpt(body) for pid, body in bodies.items()}
    assert stored[1] == "Discharge letters They arrive as five separate documents, see the list."
    assert len(stored[3]) <= 200 and stored[3].endswith("referrals.…")
    assert stored[4] == ""


def test_0021_the_database_raises_the_scope_of_each_committed_change_once(scratch_database_url):
    """A board's problems, tags and signals raise its scope; a person's memberships theirs;
    organisations and people `all`. PostgreSQL raises each scope once per transaction, at
    commit; SQLite with each row (one writer at a time anyway)."""
    from sqlalchemy.orm import Session

    from network.content import read_versions
    from network.db import make_engine
    from network.migrate import upgrade
    from network.organisations.models import Organisation
    from network.people.models import Person

    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    pg = engine.dialect.name == "postgresql"

    def versions() -> dict[str, int]:
        with Session(engine) as fresh:
            scopes = [f"b{b}" for b in (pcn1, practice2, pcn3)]
            return read_versions(fresh, ["all", *scopes, f"p{member}", f"p{other}"])

    def raised(before: dict[str, int]) -> dict[str, int]:
        return {k: v - before[k] for k, v in versions().items() if v != before[k]}

    try:
        with Session(engine) as session:
            net = factories.network(session)  # organisations, people, memberships
            session.flush()
            member, other = net.members["practice1"].id, net.members["practice4"].id
            colleague = net.members["practice2"].id
            pcn1, practice2, pcn3 = net.pcn1.id, net.practice2.id, net.pcn3.id
            if pg:
                # 0021's start, then 0022's raise; this unit's raise comes at commit.
                assert versions()["all"] == 2
            session.commit()
        start = versions()
        assert start["all"] == 3 if pg else start["all"] > 3
        assert start[f"p{member}"] >= 1 and start[f"b{pcn1}"] == 0

        before = versions()
        with Session(engine) as session:
            org = session.get_one(Organisation, pcn1)
            problem = factories.problem(session, session.get_one(Person, member), org).id
            practice = session.get_one(Organisation, practice2)
            factories.problem(session, session.get_one(Person, colleague), practice)  # same one
            session.commit()
        if pg:
            assert raised(before) == {f"b{pcn1}": 1, f"b{practice2}": 1}
        assert set(raised(before)) == {f"b{pcn1}", f"b{practice2}"}  # no other, not everything

        before = versions()
        with Session(engine) as session:
            session.execute(
                text(
                    "INSERT INTO affected_practice (problem_id, practice_id, signalled_by_id,"
                    " created_at) VALUES (:p, :practice, :by, CURRENT_TIMESTAMP)"
                ),
                {"p": problem, "practice": practice2, "by": colleague},
            )
            session.execute(
                text("INSERT INTO problem_tag (problem_id, tag) VALUES (:p, 'it')"), {"p": problem}
            )
            session.commit()
        assert set(raised(before)) == {f"b{pcn1}"}

        before = versions()
        with Session(engine) as session:  # moved to another board (of federation B): both
            session.execute(
                text("UPDATE problem SET board_id = :b WHERE id = :p"),
                {"b": pcn3, "p": problem},
            )
            session.commit()
        assert set(raised(before)) == {f"b{pcn1}", f"b{pcn3}"}

        before = versions()
        with Session(engine) as session:
            session.execute(text("DELETE FROM membership WHERE person_id = :id"), {"id": member})
            session.commit()
        assert set(raised(before)) == {f"p{member}"}

        before = versions()
        with Session(engine) as session:
            session.execute(text("UPDATE organisation SET name = name || '.'"))  # many rows
            session.execute(text("UPDATE person SET name = name || '.'"))
            session.commit()
        assert raised(before) == {"all": 1} if pg else set(raised(before)) == {"all"}

        before = versions()
        with Session(engine) as session:
            session.execute(text("UPDATE organisation SET name = 'x' WHERE id = :id"), {"id": pcn1})
            session.rollback()
        assert raised(before) == {}  # nothing committed, nothing raised

        before = versions()
        with Session(engine) as session:  # a problem and its tags and signals, deleted
            session.execute(text("DELETE FROM problem WHERE id = :p"), {"p": problem})
            session.commit()
        assert set(raised(before)) == {f"b{pcn3}"}
        if pg:
            before = versions()
            with Session(engine) as session:
                session.execute(text("TRUNCATE problem_tag"))
                session.commit()
            assert raised(before) == {"all": 1}
    finally:
        engine.dispose()


def test_a_unit_whose_reads_are_all_remembered_opens_no_transaction(scratch_database_url):
    # On an engine (as the API runs), the version is read outside any transaction; the unit
    # opens a session only for what it has to compute, and a change is seen by the next unit.
    from sqlalchemy.orm import Session

    from network.content import ReadCache
    from network.db import make_engine, make_session_factory
    from network.migrate import upgrade
    from network.uow import UnitOfWork

    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    factory = make_session_factory(engine)
    cache = ReadCache(8)
    begun = []
    event.listen(engine, "begin", lambda conn: begun.append(conn))

    def names() -> tuple[list[str], int]:
        """The organisations' names (remembered) and how many transactions reading them took."""
        before = len(begun)
        with UnitOfWork(factory, read_cache=cache) as unit:
            found = unit.cached(
                "names",
                lambda: unit.session.execute(text("SELECT name FROM organisation")).scalars().all(),
            )
            unit.commit()
        return found, len(begun) - before

    try:
        with Session(engine) as session:
            factories.organisation(session, "federation", name="Federation A")
            session.commit()
        assert names() == (["Federation A"], 1)  # computed in a transaction
        assert names() == (["Federation A"], 0)  # remembered: no transaction at all
        with Session(engine) as session:
            session.execute(text("UPDATE organisation SET name = 'Federation B'"))
            session.commit()
        assert names() == (["Federation B"], 1)
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()


def test_0022_joint_work_raises_its_workstream_and_the_library_its_board(scratch_database_url):
    """Everything of a workstream raises `w<id>` (once per transaction on PostgreSQL, however
    many rows); a library entry and its adoptions raise their organisation's board and the
    workstream they came from; other threads' activity raises nothing of a workstream."""
    from datetime import date

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from network.content import read_versions
    from network.db import make_engine
    from network.library.models import Adoption, AdoptionStatus, LibraryEntry
    from network.measures.models import Better, Measure, MeasurePoint
    from network.migrate import upgrade
    from network.people.models import Person
    from tests.factories import workstreams as work

    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    pg = engine.dialect.name == "postgresql"
    try:
        with Session(engine) as session:
            net = factories.network(session)
            manager = net.admins["pcn1"]
            ws = work.workstream(session, manager, net.pcn1)
            other = work.workstream(session, manager, net.pcn1, title="Access")
            ids = (ws.id, other.id, net.pcn1.id, net.pcn3.id)
            admin, member, practice = manager.id, net.members["practice1"].id, net.practice1.id
            session.commit()
        w, w_other, b_pcn1, b_pcn3 = (f"w{ids[0]}", f"w{ids[1]}", f"b{ids[2]}", f"b{ids[3]}")
        scopes = [w, w_other, b_pcn1, b_pcn3, "all"]

        def versions() -> dict[str, int]:
            with Session(engine) as fresh:
                return read_versions(fresh, scopes)

        def raised(before: dict[str, int]) -> dict[str, int]:
            return {k: v - before[k] for k, v in versions().items() if v != before[k]}

        before = versions()
        with Session(engine) as session:
            on = session.get_one(work.Workstream, ids[0])
            work.take_part(
                session, session.get_one(Person, admin), on, net_practice(session, practice)
            )
            work.action(
                session,
                session.get_one(Person, admin),
                on,
                owner=session.get_one(Person, member),
                practice=net_practice(session, practice),
            )
            session.add(
                Measure(
                    workstream_id=ids[0],
                    name="Letters",
                    unit="x",
                    better=Better.down,
                    created_by_id=admin,
                )
            )
            session.commit()
        if pg:
            assert raised(before) == {w: 1}  # many rows, one raise at commit
        assert set(raised(before)) == {w}

        before = versions()
        with Session(engine) as session:  # a point, found through its measure
            measure = session.scalars(select(Measure.id)).one()
            session.add(
                MeasurePoint(
                    measure_id=measure,
                    practice_id=practice,
                    period=date(2026, 6, 1),
                    value=3,
                    posted_by_id=admin,
                )
            )
            session.commit()
        assert set(raised(before)) == {w}

        before = versions()
        with Session(engine) as session:  # an entry that came from the workstream
            session.add(
                LibraryEntry(
                    organisation_id=ids[2],
                    author_id=admin,
                    title="Protocol",
                    summary="Steps.",
                    body="Steps.",
                    body_html="<p>Steps.</p>",
                    source_workstream_id=ids[0],
                )
            )
            session.commit()
        assert set(raised(before)) == {b_pcn1, w}

        before = versions()
        with Session(engine) as session:  # an adoption: its entry's board and workstream
            entry = session.scalars(select(LibraryEntry.id)).one()
            session.add(
                Adoption(
                    entry_id=entry,
                    practice_id=practice,
                    status=AdoptionStatus.adopted,
                    version=1,
                    set_by_id=admin,
                )
            )
            session.commit()
        assert set(raised(before)) == {b_pcn1, w}

        before = versions()
        with Session(engine) as session:  # a problem's activity: no workstream's
            session.execute(
                text(
                    "INSERT INTO activity (at, board_id, actor_id, anonymity, verb,"
                    " subject_type, subject_id, thread_type, thread_id, data)"
                    " VALUES (CURRENT_TIMESTAMP, :b, :a, 'named', 'posted', 'problem', :w,"
                    " 'problem', :w, '{}')"
                ),
                {"b": ids[2], "a": admin, "w": ids[1]},
            )
            session.commit()
        assert raised(before) == {}
    finally:
        engine.dispose()


def net_practice(session, practice_id):
    from network.organisations.models import Organisation

    return session.get_one(Organisation, practice_id)


def test_0009_a_practice_anonymous_authors_practice_stops_being_a_signal(scratch_database_url):
    """Counted, not signalled: the author's practice's row goes where the post hides the
    practice, and stays where it shows it; counts and other practices' signals are untouched."""
    from network.db import make_engine
    from network.migrate import upgrade

    upgrade(scratch_database_url, revision="0008")
    engine = make_engine(scratch_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisation (id, kind, name, parent_id, active, created_at,"
                    " updated_at) VALUES (:id, :kind, :name, :parent, :yes, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                [
                    {"id": 1, "kind": "federation", "name": "F", "parent": None, "yes": True},
                    {"id": 2, "kind": "practice", "name": "P1", "parent": 1, "yes": True},
                    {"id": 3, "kind": "practice", "name": "P2", "parent": 1, "yes": True},
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO person (id, email, name, staff_group, is_superuser, is_active,"
                    " created_at) VALUES (1, 'ana@example.org', 'Ana', 'gp', :no, :yes,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"yes": True, "no": False},
            )
            conn.execute(
                text(
                    "INSERT INTO problem (id, board_id, author_id, author_practice_id, anonymity,"
                    " title, body, body_html, tags, status, affected_count, comment_count,"
                    " version, hidden, created_at, updated_at, last_activity_at) VALUES (:id, 1,"
                    " 1, 2, :anonymity, 't', 'b', '', '[]', 'open', 2, 0, 1, :no,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                [
                    {"id": 1, "anonymity": "practice", "no": False},
                    {"id": 2, "anonymity": "person", "no": False},
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO affected_practice (problem_id, practice_id, signalled_by_id,"
                    " created_at) VALUES (:problem, :practice, 1, CURRENT_TIMESTAMP)"
                ),
                [
                    {"problem": problem, "practice": practice}
                    for problem in (1, 2)
                    for practice in (2, 3)
                ],
            )
        upgrade(scratch_database_url, revision="0009")
        with engine.connect() as conn:
            signals = set(
                conn.execute(text("SELECT problem_id, practice_id FROM affected_practice"))
            )
            counts = dict(conn.execute(text("SELECT id, affected_count FROM problem")).all())
            before = conn.execute(text("SELECT version FROM content_version")).scalar_one()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM affected_practice WHERE problem_id = 2"))
        with engine.connect() as conn:
            after = conn.execute(text("SELECT version FROM content_version")).scalar_one()
    finally:
        engine.dispose()
    assert signals == {(1, 3), (2, 2), (2, 3)}
    assert counts == {1: 2, 2: 2}
    assert after > before  # signals now move the content version (my_practice_affected)


def test_0011_renders_existing_excerpts_and_bodies_by_the_new_rules(scratch_database_url):
    """Excerpts keep what people write, bodies of problems and comments render as GitHub's
    Markdown does; rows already right are left alone, so running it again changes nothing."""
    from alembic import command

    from network.db import make_engine
    from network.migrate import upgrade
    from network.safety import excerpt, render_markdown

    bodies = {
        1: "## GP-led A&E/111 cover (see list)\n\nRota at https://example.nhs.uk/a-b_c",
        2: "- [ ] ask [the PCN](https://example.org)\n- [x] ~~fax~~ email\n\n| a |\n|:-:|\n| 1 |",
        3: " ".join(f"Sentence-{n} about referrals/letters." for n in range(40)),
        4: "",
    }
    upgrade(scratch_database_url, revision="0010")
    engine = make_engine(scratch_database_url)

    def stored() -> tuple[dict, dict, int]:
        with engine.connect() as conn:
            problems = {
                pid: (text_, html)
                for pid, text_, html in conn.execute(
                    text("SELECT id, excerpt, body_html FROM problem")
                )
            }
            comments = dict(conn.execute(text("SELECT id, body_html FROM comment")).all())
            version = conn.execute(text("SELECT version FROM content_version")).scalar_one()
        return problems, comments, version

    try:
        with engine.begin() as conn:
            _federation_and_author(conn)
            # As the old rules stored them: punctuation stripped, strikethrough and URLs lost.
            conn.execute(
                text(
                    "INSERT INTO problem (id, board_id, author_id, anonymity, title, body,"
                    " body_html, excerpt, tags, status, affected_count, comment_count, version,"
                    " hidden, created_at, updated_at, last_activity_at) VALUES (:id, 1, 1,"
                    " 'none', :title, :body, :html, :excerpt, '[]', 'open', 0, 0, 1, :no,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                [
                    {
                        "id": pid,
                        "title": f"Problem {pid}",
                        "body": body,
                        "html": f"<p>{body}</p>\n" if body else "",
                        "excerpt": " ".join(body.replace("-", " ").split())[:200],
                        "no": False,
                    }
                    for pid, body in bodies.items()
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO comment (id, problem_id, author_id, anonymity, kind, body,"
                    " body_html, accepted, hidden, created_at) VALUES (:id, :problem, 1, 'none',"
                    " 'comment', :body, :html, FALSE, FALSE, CURRENT_TIMESTAMP)"
                ),
                [
                    {"id": 1, "problem": 1, "body": "~~no~~ yes", "html": "<p>no yes</p>\n"},
                    {"id": 2, "problem": 1, "body": "see www.nhs.uk", "html": "<p>see</p>"},
                    {"id": 3, "problem": 2, "body": "plain", "html": "<p>plain</p>\n"},
                ],
            )
        upgrade(scratch_database_url, revision="0011")
        problems, comments, version = stored()
        # Again, from the revision before: nothing left to change, nothing raised.
        command.downgrade(alembic_config(scratch_database_url), "0010")
        upgrade(scratch_database_url, revision="0011")
        again = stored()
    finally:
        engine.dispose()
    assert problems == {pid: (excerpt(body), render_markdown(body)) for pid, body in bodies.items()}
    assert comments == {
        1: "<p><del>no</del> yes</p>\n",
        2: render_markdown("see www.nhs.uk"),
        3: "<p>plain</p>\n",
    }
    assert problems[1][0] == "GP-led A&E/111 cover (see list) Rota at https://example.nhs.uk/a-b_c"
    assert problems[2][0] == "ask the PCN fax email a 1"
    assert (
        '<li><input disabled="" type="checkbox"> ask <a href="https://example.org"'
        in problems[2][1]
    )
    assert '<th align="center">a</th>' in problems[2][1]
    assert len(problems[3][0]) <= 200 and problems[3][0].endswith("letters. Sentence-5 about…")
    assert problems[4] == ("", "")
    assert again == (problems, comments, version)


def test_0013_activity_gets_threads_and_its_facts_back_from_its_prose(scratch_database_url):
    """Each row's facts come from its prose (the title as it was then, a status), comments'
    excerpts from the comment; a row whose prose does not read as expected takes the title now.
    Downgrading writes the very same prose back."""
    import json

    from alembic import command

    from network.db import make_engine
    from network.migrate import upgrade

    upgrade(scratch_database_url, revision="0012")
    engine = make_engine(scratch_database_url)
    rows = [
        # id, verb, subject_type, subject_id, summary
        (1, "posted", "problem", 1, "posted “Letters “by fax””"),
        (2, "edited", "problem", 1, "edited “Letters by email”"),
        (3, "status_changed", "problem", 1, "marked “Letters by email” in workstream"),
        (4, "comment", "comment", 1, "commented on “Letters by email”"),
        (5, "idea", "comment", 2, "suggested an idea on “Letters by email”"),
        (6, "accepted", "comment", 2, "accepted an idea: “Letters by email” is solved"),
        (7, "signalled", "problem", 1, "a practice has “Letters by email” too"),
        (8, "withdrew", "problem", 1, "a practice no longer has “Letters by email”"),
        (9, "deleted", "problem", 1, "removed “Letters by email”"),
        (10, "posted", "problem", 1, "something a hand-edited row says"),
    ]
    try:
        with engine.begin() as conn:
            _federation_and_author(conn)
            conn.execute(
                text(
                    "INSERT INTO problem (id, board_id, author_id, anonymity, title, body,"
                    " body_html, excerpt, tags, status, affected_count, comment_count, version,"
                    " hidden, created_at, updated_at, last_activity_at) VALUES (1, 1, 1,"
                    " 'none', 'Letters now', 'Body **now**', '', 'Body now', '[]', 'open', 0,"
                    " 2, 1, :no, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"no": False},
            )
            conn.execute(
                text(
                    "INSERT INTO comment (id, problem_id, author_id, anonymity, kind, body,"
                    " body_html, accepted, hidden, created_at) VALUES (:id, 1, 1, 'none',"
                    " :kind, :body, '', FALSE, FALSE, CURRENT_TIMESTAMP)"
                ),
                [
                    {"id": 1, "kind": "comment", "body": "We batch them *at noon*."},
                    {"id": 2, "kind": "idea", "body": "Use the   shared inbox."},
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO activity (id, at, board_id, actor_id, actor_practice_id,"
                    " anonymity, verb, subject_type, subject_id, problem_id, summary) VALUES"
                    " (:id, CURRENT_TIMESTAMP, 1, 1, NULL, 'none', :verb, :type, :subject, 1,"
                    " :summary)"
                ),
                [
                    {"id": i, "verb": verb, "type": type_, "subject": sid, "summary": summary}
                    for i, verb, type_, sid, summary in rows
                ],
            )
        upgrade(scratch_database_url)
        with engine.connect() as conn:
            migrated = {
                row.id: (row.thread_type, row.thread_id, row.data)
                for row in conn.execute(
                    text("SELECT id, thread_type, thread_id, data FROM activity")
                )
            }
        facts = {
            i: json.loads(data) if isinstance(data, str) else data
            for i, (_, _, data) in migrated.items()
        }
        assert {(t, tid) for t, tid, _ in migrated.values()} == {("problem", 1)}
        assert facts[1] == {"title": "Letters “by fax”", "excerpt": "Body now"}
        assert facts[2] == {"title": "Letters by email"}
        assert facts[3] == {"title": "Letters by email", "status": "in_workstream"}
        assert facts[4] == {"title": "Letters by email", "excerpt": "We batch them at noon."}
        assert facts[5] == {"title": "Letters by email", "excerpt": "Use the shared inbox."}
        assert facts[10]["title"] == "Letters now"

        command.downgrade(alembic_config(scratch_database_url), "0012")
        with engine.connect() as conn:
            prose = dict(conn.execute(text("SELECT id, summary FROM activity")).all())
            problems = set(conn.execute(text("SELECT problem_id FROM activity")).scalars())
    finally:
        engine.dispose()
    assert {i: prose[i] for i in range(1, 10)} == {i: s for i, _, _, _, s in rows[:9]}
    assert problems == {1}
