"""Organisations and their members.

- Organisations are reference data: everyone in a federation sees its organisations; for someone
  from another federation an organisation of federation A does not exist (404, and the 404 does
  not give its name away).
- Administering an organisation (settings, members): its admins, the admins of its ancestors,
  and superusers. Creating one: administrators of its parent (federations: superusers, see
  `test_only_superusers_create_federations`).
- Listing members: the organisation's own (direct) members and its administrators.
"""

from typing import Any

from sqlalchemy.orm import Session

from network.organisations.models import Organisation
from tests import factories
from tests.api.permission_matrix.matrix import SIGNED_IN, Expect, Scene, Table, table

# Reading one organisation: reference data for its federation, hidden from other federations.
# fmt: off
SEE = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (200,    200, 200),
    other_practice=   (200,    200, 200),
    member=           (200,    200, 200),
    admin=            (200,    200, 200),
    pcn_admin=        (200,    200, 200),
    superuser=        (200,    200, 200),
)

# Listing members: the organisation's own (direct) members and its administrators. Belonging
# through a descendant (a practice's member on its PCN or federation) is not enough, and the
# PCN's admin administers practice1 and pcn1 but not federation A.
LIST_MEMBERS = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (403,    403, 403),
    other_practice=   (403,    403, 403),
    member=           (200,    200, 200),
    admin=            (200,    200, 200),
    pcn_admin=        (200,    200, 403),
    superuser=        (200,    200, 200),
)


def administer(ok: int) -> Table:
    """Changing the organisation or its memberships: its admins, its ancestors' admins, and
    superusers; everyone else in the federation 403."""
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (403,    403, 403),
        other_practice=   (403,    403, 403),
        member=           (403,    403, 403),
        admin=            (ok,     ok,  ok),
        pcn_admin=        (ok,     ok,  403),
        superuser=        (ok,     ok,  ok),
    )


# Creating an organisation under the object: the parent's administrators. A practice cannot have
# children, so for the practice object the request creates a practice under *its PCN* (pcn1):
# the practice's own admin is not an administrator of the PCN and is refused, its PCN's admin is
# not. For the PCN object: a practice under pcn1; for the federation object: a PCN under fed_a.
CREATE_CHILD = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (403,    403, 403),
    other_practice=   (403,    403, 403),
    member=           (403,    403, 403),
    admin=            (403,    201, 201),
    pcn_admin=        (201,    201, 403),
    superuser=        (201,    201, 201),
)
# fmt: on


def _parent_for_child(scene: Scene) -> Organisation:
    """Where `createOrganisation` puts its new organisation (see CREATE_CHILD)."""
    return scene.net.fed_a if scene.kind == "federation" else scene.net.pcn1


def _new_child(scene: Scene) -> dict[str, Any]:
    kind = "pcn" if scene.kind == "federation" else "practice"
    return {"kind": kind, "name": f"New {kind}", "parent_id": _parent_for_child(scene).id}


def _listed_organisations(scene: Scene, response) -> None:
    ids = {item["id"] for item in response.get_json()["items"]}
    # The organisations of the caller's federation(s), all of them for superusers.
    assert (scene.target.id in ids) is (scene.principal != "other_federation")


def _plain_member(scene: Scene, session: Session) -> None:
    """A plain member of the object, for the administrators to manage (`{person_id}`)."""
    member = factories.person(
        session, name="Plain Member", email="plain.member@example.org", member_of=scene.target
    )
    scene.path["person_id"] = member.id


EXPECTATIONS = {
    # The organisation list is always "the organisations of your federation(s)".
    "listOrganisations": Expect(
        SIGNED_IN, query=lambda s: {"q": s.target.name, "limit": 100}, check=_listed_organisations
    ),
    "createOrganisation": Expect(CREATE_CHILD, body=_new_child),
    "getOrganisation": Expect(SEE),
    "updateOrganisation": Expect(
        administer(200), body=lambda s: {"name": f"{s.target.name} (renamed)"}
    ),
    "listMembers": Expect(LIST_MEMBERS),
    "addMember": Expect(
        administer(201), body=lambda s: {"email": "invitee.matrix@example.org", "role": "member"}
    ),
    "updateMember": Expect(
        administer(200), arrange=_plain_member, body=lambda s: {"role": "admin"}
    ),
    "removeMember": Expect(administer(204), arrange=_plain_member),
}
