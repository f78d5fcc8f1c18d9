from network.uow import Job, UnitOfWork


class FakeSession:
    def __init__(self):
        self.committed = self.rolled_back = 0

    def commit(self):
        self.committed += 1

    def rollback(self):
        self.rolled_back += 1

    def close(self):
        pass


def test_jobs_are_dispatched_only_after_commit():
    sent = []
    with UnitOfWork(FakeSession, sent.append) as uow:
        uow.session  # noqa: B018 - open the session
        uow.enqueue_after_commit(Job("workers.jobs.example", (1,)))
        assert sent == []
        uow.commit()
    assert sent == [Job("workers.jobs.example", (1,))]


def test_a_unit_left_without_commit_rolls_back_and_sends_nothing():
    sent = []
    with UnitOfWork(FakeSession, sent.append) as uow:
        session = uow.session
        uow.enqueue_after_commit(Job("workers.jobs.example"))
    assert sent == []
    assert session.rolled_back >= 1 and session.committed == 0
