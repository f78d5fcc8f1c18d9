"""Digest state written by several transactions at once, on PostgreSQL (where they truly
overlap): a person's unsubscribe token is made once, however many builds ask for it at once."""

import threading

from network.db import make_engine, make_session_factory
from network.digests import tokens
from network.uow import UnitOfWork
from tests import factories

SECRET = "s" * 48


def test_builds_at_once_give_a_new_person_one_token_that_works(committed_database_url):
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as setup:
        person = factories.person(setup.session)
        setup.commit()
        person_id = person.id
    n = 4
    barrier = threading.Barrier(n)
    made: list = [None] * n

    def build(i: int) -> None:
        with UnitOfWork(factory) as uow:
            tokens.preference_row(uow, person_id)  # the row, as a build reads it first
            uow.commit()
        with UnitOfWork(factory) as uow:
            uow.session.get(tokens.DigestPreference, person_id)
            barrier.wait(5)
            made[i] = tokens.token_for(uow, SECRET, person_id)
            uow.commit()

    threads = [threading.Thread(target=build, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert None not in made and len(set(made)) == 1
    with UnitOfWork(factory) as uow:
        assert tokens.preference_of_token(uow, SECRET, made[0]) is not None
    engine.dispose()
