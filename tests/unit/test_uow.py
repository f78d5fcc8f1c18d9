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
