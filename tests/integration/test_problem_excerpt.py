"""The stored excerpt of a problem follows its body through the domain's writes, moderation's
redaction included: what was redacted must not survive in the list's excerpt."""

import pytest
from sqlalchemy import select

from network.access import load_principal
from network.preconditions import IfMatch
from network.problems import moderation, services
from network.problems.models import Problem
from network.uow import UnitOfWork


@pytest.fixture
def uow(session):
    return UnitOfWork(lambda: session)


def _stored_excerpt(session, problem_id: int) -> str:
    """As the database holds it, not the identity map's copy."""
    session.flush()
    session.expire_all()
    return session.scalar(select(Problem.excerpt).where(Problem.id == problem_id))


def test_a_redaction_removes_the_text_from_the_stored_excerpt(net, uow):
    author = load_principal(uow.session, net.members["practice1"])
    problem = services.create(
        uow,
        author,
        board_id=net.pcn1.id,
        title="Letters for one patient",
        body="**Jane Doe** had her discharge letter sent as five documents.",
    )
    assert _stored_excerpt(uow.session, problem.id) == (
        "Jane Doe had her discharge letter sent as five documents."
    )
    moderator = load_principal(uow.session, net.admins["pcn1"])
    assert moderation.redact(uow, moderator, problem.id, text="Jane Doe") >= 1
    stored = _stored_excerpt(uow.session, problem.id)
    assert "Jane Doe" not in stored
    assert stored == "[redacted] had her discharge letter sent as five documents."


def test_a_redaction_with_a_replacement_of_the_moderators_choosing(net, uow):
    author = load_principal(uow.session, net.members["practice1"])
    problem = services.create(
        uow, author, board_id=net.pcn1.id, title="Referrals", body="Ask Dr Smith on 0207 123 4567"
    )
    moderator = load_principal(uow.session, net.admins["pcn1"])
    moderation.redact(uow, moderator, problem.id, text="0207 123 4567", replacement="(number)")
    assert _stored_excerpt(uow.session, problem.id) == "Ask Dr Smith on (number)"


def test_an_edit_of_the_body_changes_the_stored_excerpt(net, uow):
    author = load_principal(uow.session, net.members["practice1"])
    problem = services.create(
        uow, author, board_id=net.pcn1.id, title="Letters", body="First words"
    )
    services.update(
        uow,
        author,
        problem.id,
        if_match=IfMatch(versions=frozenset({problem.version})),
        body="# Second\n\nwords",
    )
    assert _stored_excerpt(uow.session, problem.id) == "Second words"


def test_the_stored_excerpt_keeps_what_people_write(net, uow):
    """Punctuation and URLs as written; no Markdown syntax, no tags."""
    author = load_principal(uow.session, net.members["practice1"])
    problem = services.create(
        uow,
        author,
        board_id=net.pcn1.id,
        title="Out of hours",
        body=(
            "## GP-led A&E/111 cover (see list)\n\n"
            "> Rota at https://example.nhs.uk/a-b_c, or [the sheet](https://example.org/s).\n\n"
            "| day | who |\n|---|---|\n| Mon | **Dr Patel** |\n\n"
            "- [x] ~~fax~~ email <b>only</b>"
        ),
    )
    assert _stored_excerpt(uow.session, problem.id) == (
        "GP-led A&E/111 cover (see list) Rota at https://example.nhs.uk/a-b_c, or the sheet."
        " day who Mon Dr Patel fax email only"
    )
