"""`network.db.among`: `column IN values` that PostgreSQL receives as one array parameter."""

from sqlalchemy import select

from network.db import among
from network.people.models import Person


def test_among_finds_the_listed_rows_with_one_statement_text_whatever_the_count(
    session, net, count_statements
):
    ids = sorted(p.id for p in net.members.values())

    def found(values):
        return sorted(session.scalars(select(Person.id).where(among(session, Person.id, values))))

    with count_statements() as counted:
        assert found(ids[:2]) == ids[:2]
        assert found(ids + ids) == ids  # repeats read once
        assert found([]) == []
        assert found([-1, ids[0]]) == [ids[0]]
    texts = counted.statements
    if session.get_bind().dialect.name == "postgresql":
        # No placeholder per value: SQLAlchemy writes, and psycopg parses, the same short text.
        assert len(set(texts)) == 1
        assert "ANY" in texts[0] and texts[0].count("%(") == 1
    else:
        assert all(" IN " in text for text in texts)
