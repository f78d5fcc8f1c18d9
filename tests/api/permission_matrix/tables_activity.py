"""The activity feed: what happened on the boards the caller reads, 200 for anyone signed in
(filtered to what they may see). The content is the problems table's `posted_problem`."""

from tests.api.permission_matrix.matrix import SIGNED_IN, Expect
from tests.api.permission_matrix.tables_problems import posted_problem

EXPECTATIONS = {
    "listActivity": Expect(
        SIGNED_IN, arrange=posted_problem(), query=lambda s: {"organisation_id": s.target.id}
    ),
}
