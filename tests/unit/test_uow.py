from network.uow import Job, UnitOfWork


class FakeSession:
    added: list = []  # every row added, by any session of the factory
    executed: list = []

    def __init__(self):
        self.committed = self.rolled_back = 0

    def add(self, row):
        row.id = len(self.added) + 1
        self.added.append(row)

    def execute(self, statement):
        self.executed.append(statement)

    def commit(self):
        self.committed += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def rollback(self):
        self.rolled_back += 1

    def close(self):
        pass


def test_jobs_are_recorded_in_the_transaction_and_dispatched_only_after_commit():
    FakeSession.added, FakeSession.executed = [], []
    sent = []
    with UnitOfWork(FakeSession, sent.append) as uow:
        uow.session  # noqa: B018 - open the session
        uow.enqueue_after_commit(Job("workers.jobs.example", (1,)))
        uow.enqueue_after_commit(Job("workers.jobs.example", (2,), job_id="example-2"))
        assert sent == []
        [first, second] = FakeSession.added  # the outbox rows, in the unit's transaction
        assert (first.func, first.args, second.job_id) == ("workers.jobs.example", [1], "example-2")
        uow.commit()
    expected = [("workers.jobs.example", (1,)), ("workers.jobs.example", (2,))]
    assert [(j.func, j.args) for j in sent] == expected
    # Under the ids the rows were recorded with: the relay would use the same ones.
    assert sent[0].job_id == first.job_id and first.job_id.startswith("job-")
    assert sent[1].job_id == "example-2"
    # Once handed over, the rows are marked so (in a transaction of their own); each job
    # deletes its row when done.
    [marked] = FakeSession.executed
    assert str(marked).upper().startswith("UPDATE JOB_OUTBOX SET DISPATCHED_AT")


def test_a_unit_left_without_commit_rolls_back_and_sends_nothing():
    sent = []
    with UnitOfWork(FakeSession, sent.append) as uow:
        session = uow.session
        uow.enqueue_after_commit(Job("workers.jobs.example"))
    assert sent == []
    assert session.rolled_back >= 1 and session.committed == 0


def test_a_driver_select_expands_as_sqlalchemy_does_and_keeps_types_apart():
    from sqlalchemy import Float, Integer, bindparam, column, select, table
    from sqlalchemy.dialects import postgresql

    from network.db import DriverSelect

    t = table("t", column("a", Integer), column("b", Integer))
    stmt = DriverSelect(
        select(t.c.a)
        .where(t.c.a.in_(bindparam("ids", expanding=True, literal_execute=True)))
        .where(t.c.b == bindparam("b"))
        .limit(bindparam("n", type_=Integer, literal_execute=True))
    )
    dialect = postgresql.psycopg.dialect()
    compiled = stmt.compiled_for(dialect)
    assert compiled is not None
    sql, values = stmt.expand(compiled, {"ids": (3, 1), "b": 7, "n": 26})
    expected = compiled.construct_expanded_state({"ids": (3, 1), "b": 7, "n": 26})
    assert (sql, values) == (expected.statement, expected.parameters)
    assert "IN (3, 1)" in sql and "LIMIT 26" in sql and values == {"b": 7}
    assert stmt.expand(compiled, {"ids": (3, 1), "b": 7, "n": 26}) == (sql, values)
    again, _ = stmt.expand(compiled, {"ids": (3, 2), "b": 7, "n": 26})
    assert "IN (3, 2)" in again  # other values: expanded anew, never the remembered SQL
    # Equal values of other types (1 and 1.0 are equal, hash alike) are other keys: each set
    # expands as SQLAlchemy expands it, whatever was remembered before.
    for ids, n in (((1, 2), 26), ((1.0, 2), 26), ((1, 2), 26.0), ((True, 2), 26)):
        params = {"ids": ids, "b": 7, "n": n}
        fresh = compiled.construct_expanded_state(params)
        assert stmt.expand(compiled, params) == (fresh.statement, fresh.parameters)
    floats = DriverSelect(
        select(t.c.a).where(t.c.b.in_(bindparam("xs", type_=Float, literal_execute=True)))
    )
    on_floats = floats.compiled_for(dialect)
    assert on_floats is not None
    rendered = [floats.expand(on_floats, {"xs": xs})[0] for xs in ((1,), (1.0,), (1,))]
    assert rendered[0] == rendered[2] != rendered[1]  # IN (1), IN (1.0), IN (1)


def test_a_driver_select_leaves_columns_that_need_converting_to_sqlalchemy():
    from sqlalchemy import String, select, type_coerce
    from sqlalchemy.dialects import postgresql

    from network.db import DriverSelect
    from network.people.models import Membership

    dialect = postgresql.psycopg.dialect()
    assert DriverSelect(select(Membership.role)).compiled_for(dialect) is None  # an Enum
    as_text = type_coerce(Membership.role, String)
    assert DriverSelect(select(as_text)).compiled_for(dialect) is not None
