"""The signed-in person: their own record, 200 for anyone signed in."""

from tests.api.permission_matrix.matrix import SIGNED_IN, Expect, is_the_caller

EXPECTATIONS = {
    "getMe": Expect(SIGNED_IN, check=is_the_caller),
    "updateMe": Expect(SIGNED_IN, body=lambda s: {"staff_group": "nurse"}, check=is_the_caller),
}
