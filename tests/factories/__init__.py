"""Test data, one module per feature; model factories flush, never commit.

Tests call them through this package (`from tests import factories; factories.person(...)`):
a new feature adds its module here (`tests/factories/workstreams.py`, its models' factories next
to each other) and one import line below.
"""

from tests.factories.database import fresh_database
from tests.factories.organisations import organisation
from tests.factories.people import membership, person
from tests.factories.problems import affected, comment, problem, report
from tests.factories.scenes import Network, network
from tests.factories.tokens import token, token_for_settings
from tests.factories.workstreams import (
    action,
    check_in,
    hide_workstream,
    meeting,
    take_part,
    workstream,
)

__all__ = [
    "Network",
    "action",
    "affected",
    "check_in",
    "comment",
    "fresh_database",
    "hide_workstream",
    "meeting",
    "membership",
    "network",
    "organisation",
    "person",
    "problem",
    "report",
    "take_part",
    "token",
    "token_for_settings",
    "workstream",
]
