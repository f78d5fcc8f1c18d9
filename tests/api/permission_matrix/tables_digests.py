"""The signed-in person's digest preference: their own, 200 for anyone signed in."""

from tests.api.permission_matrix.matrix import SIGNED_IN, Expect

DIGEST = {
    "frequency": "weekly",
    "weekday": 1,
    "hour": 8,
    "timezone": "Europe/London",
    "content": "titles",
}

EXPECTATIONS = {
    "getMyDigestPreference": Expect(SIGNED_IN),
    "setMyDigestPreference": Expect(SIGNED_IN, body=lambda s: dict(DIGEST)),
}
