"""Liveness and readiness probes: public."""

from tests.api.permission_matrix.matrix import PUBLIC, Expect

EXPECTATIONS = {
    "getHealth": Expect(PUBLIC),
    "getReadiness": Expect(PUBLIC),
}
