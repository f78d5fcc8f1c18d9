"""The audit log."""

from tests.api.permission_matrix.matrix import Expect, table

# Superusers read all of it, administrators the entries of what they administer. Filtering by an
# organisation is a filter on that list, not an act on the organisation: any administrator gets
# 200 (with what they may see of it); people who administer nothing, 403.
# fmt: off
LIST_AUDIT = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (403,    403, 403),
    other_pcn=        (403,    403, 403),
    other_practice=   (403,    403, 403),
    member=           (403,    403, 403),
    admin=            (200,    200, 200),
    pcn_admin=        (200,    200, 200),
    superuser=        (200,    200, 200),
)
# fmt: on

EXPECTATIONS = {
    "listAudit": Expect(LIST_AUDIT, query=lambda s: {"organisation_id": s.target.id}),
}
