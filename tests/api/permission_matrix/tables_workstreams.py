"""Joint workstreams: the workstream, the practices taking part, the problems it took on, its
actions and check-ins, and its moderation (report, hide, unhide, redact).

Workstreams are owned by PCNs and federations only (API.md, "Joint workstreams"), so the content
of each column is the workstream of an owner, started by the owner's admin:

- on the **PCN** and the **federation**: a workstream of that organisation;
- on the **practice** (practice 1): the workstream of its PCN (PCN 1) in which it takes part. This
  column is the practice's side of the work: there the object's member and admin are people of a
  practice taking part (its admin speaks for it), PCN 1's admin is a manager who is no member.
  Starting a workstream *on* the practice is 422 for everyone who sees the practice: practices
  own none.

In every column the workstream is led by the object's member (`scene.author`: the lead manages
it, like a problem's author edits it), practice 1 takes part, and the other principals' practices
(2, 3 and 4) do not. Joining and leaving are for practice 1; a workstream's actions are practice
1's; writes on behalf of a practice name the caller's own practice, or practice 1 for callers who
have none (the managers write for any practice taking part).

Expectations are API.md's. Rows marked `API.md` below are where the code answers otherwise: they
fail until the code follows the contract.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from network.organisations.models import Organisation
from tests import factories
from tests.api.permission_matrix.matrix import (
    SIGNED_IN,
    Expect,
    Scene,
    Table,
    created,
    expected,
    table,
)

# The object's kind -> the workstream's owner (a practice's: its PCN).
OWNERS = {"practice": "pcn1", "pcn": "pcn1", "federation": "fed_a"}
TAKING_PART = "practice1"
# The practice of the principals who are members of one (on the practice, the object's member
# and admin are practice 1's); everyone else has none.
OWN_PRACTICE = {
    "other_federation": "practice4",
    "other_pcn": "practice3",
    "other_practice": "practice2",
}

# fmt: off
# Reading: everyone who belongs to the owner (members of it or of its descendants). PCN 1's
# workstream is not for practice 3 (PCN 2); superusers who belong nowhere do not read it.
READ = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 200),
    other_practice=   (200,    200, 200),
    member=           (200,    200, 200),
    admin=            (200,    200, 200),
    pcn_admin=        (200,    200, 200),
    superuser=        (404,    404, 404),
)

# Starting one: the owner's administrators who read it. The owner is a visible organisation, so
# the others get 403 (superusers administer it but do not read it); a practice owns none (422).
CREATE = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (422,    403, 403),
    other_practice=   (422,    403, 403),
    member=           (422,    403, 403),
    admin=            (422,    201, 201),
    pcn_admin=        (422,    201, 403),
    superuser=        (422,    403, 403),
)
# fmt: on


def manage(ok: int) -> Table:
    """The owner's administrators who read it, and the lead (the object's member)."""
    # fmt: off
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (403,    403, 403),
        member=           (ok,     ok,  ok),   # the lead
        admin=            (403,    ok,  ok),   # practice 1's admin does not manage PCN 1's work
        pcn_admin=        (ok,     ok,  403),  # PCN 1's admin does not administer the federation
        superuser=        (404,    404, 404),
    )
    # fmt: on


def speak_for_practice(ok: int) -> Table:
    """Join or leave for practice 1: its administrators (its own, its PCN's, its federation's)
    who read the workstream, or the workstream's managers."""
    # fmt: off
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (403,    403, 403),
        member=           (ok,     ok,  ok),  # the lead
        admin=            (ok,     ok,  ok),  # practice 1's admin, or the owner's
        pcn_admin=        (ok,     ok,  ok),  # on the federation: practice 1's PCN's admin
        superuser=        (404,    404, 404),
    )
    # fmt: on


def write_for_practice(ok: int) -> Table:
    """Actions and check-ins: members of a practice taking part, for their own practice; the
    managers, for any practice taking part. Readers whose practice does not take part (or who
    have none and do not manage) get 403."""
    # fmt: off
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (403,    403, 403),
        member=           (ok,     ok,  ok),   # the lead; on the practice, of practice 1 too
        admin=            (ok,     ok,  ok),   # of practice 1, or the owner's admin (a manager)
        pcn_admin=        (ok,     ok,  403),  # a manager; on the federation neither
        superuser=        (404,    404, 404),
    )
    # fmt: on


def moderate(ok: int) -> Table:
    """Hide and redact: the owner's administrators who read it; not the lead as such."""
    # fmt: off
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (403,    403, 403),
        member=           (403,    403, 403),
        admin=            (403,    ok,  ok),
        pcn_admin=        (ok,     ok,  403),
        superuser=        (404,    404, 404),
    )
    # fmt: on


# Showing a hidden workstream again: hidden content is 404 for all but its moderators.
# fmt: off
UNHIDE = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 404),
    other_practice=   (404,    404, 404),
    member=           (404,    404, 404),
    admin=            (404,    200, 200),
    pcn_admin=        (200,    200, 404),
    superuser=        (404,    404, 404),
)

# Check-ins, like actions, are written by the managers for any practice taking part (API.md,
# "Write access: the workstream's managers, and members of participating practices").
# API.md: the code refuses a manager who is no member of the practice named (403:
# network/workstreams/services.py, add_check_in -> access.practice_for_write), on the practice
# for PCN 1's admin, on the PCN for the lead and both admins, on the federation for the lead
# and its admin. These rows say what API.md says and fail until the code follows it.
CHECK_IN = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 403),
    other_practice=   (403,    403, 403),
    member=           (201,    201, 201),  # API.md; the code: 403 on the PCN and federation
    admin=            (201,    201, 201),  # API.md; the code: 403 on the PCN and federation
    pcn_admin=        (201,    201, 403),  # API.md; the code: 403 on the practice and PCN
    superuser=        (404,    404, 404),
)
# fmt: on


def _owner(scene: Scene) -> Organisation:
    return scene.net.org(OWNERS[scene.kind])


def _practice_taking_part(scene: Scene) -> Organisation:
    return scene.net.org(TAKING_PART)


def acting_practice(scene: Scene) -> int:
    """The practice a write is on behalf of: the caller's own, else the one taking part."""
    key = OWN_PRACTICE.get(scene.principal)
    if scene.kind == "practice" and scene.principal in ("member", "admin"):
        key = TAKING_PART
    return scene.net.org(key or TAKING_PART).id


def a_workstream(
    *,
    taking_part: bool = True,
    problem: str | None = None,
    action: bool = False,
    check_in: bool = False,
    hidden: bool = False,
) -> Callable[[Scene, Session], None]:
    """Arrange: the owner's admin starts a workstream of the owner (`{workstream_id}`), led by
    the object's member; `{practice_id}` is practice 1, which takes part unless asked not to.
    As asked: a problem on the owner's board (`{problem_id}`), posted by the lead, that the
    workstream took on (`"linked"`) or not yet (`"posted"`); an action of practice 1
    (`{action_id}`); a check-in from practice 1; the workstream hidden by the owner's admin."""

    def arrange(scene: Scene, session: Session) -> None:
        owner = _owner(scene)
        practice = _practice_taking_part(scene)
        manager = scene.net.admins[OWNERS[scene.kind]]
        posted = factories.problem(session, scene.author, owner) if problem else None
        workstream = factories.workstream(
            session,
            manager,
            owner,
            lead=scene.author,
            problems=[posted] if posted is not None and problem == "linked" else [],
        )
        scene.path["workstream_id"] = workstream.id
        scene.path["practice_id"] = practice.id
        if posted is not None:
            scene.path["problem_id"] = posted.id
        if taking_part:
            factories.take_part(session, manager, workstream, practice)
        if action:
            row = factories.action(
                session, manager, workstream, owner=scene.author, practice=practice
            )
            scene.path["action_id"] = row.id
        if check_in:
            row = factories.check_in(session, scene.net.members[TAKING_PART], workstream)
            scene.path["check_in_id"] = row.id
        if hidden:
            factories.hide_workstream(session, manager, workstream)

    return arrange


def _reads(scene: Scene) -> bool:
    return expected(READ, scene.principal, scene.kind) == 200


def _workstream_listed(scene: Scene, response) -> None:
    ids = {item["id"] for item in response.get_json()["items"]}
    assert (scene.path["workstream_id"] in ids) is _reads(scene)


def _can_manage_shown(scene: Scene, response) -> None:
    manages = expected(manage(200), scene.principal, scene.kind) == 200
    assert response.get_json()["can_manage"] is manages


def _listed(key: str) -> Callable[[Scene, object], None]:
    def check(scene: Scene, response) -> None:
        assert len(response.get_json()["items"]) == 1, key

    return check


def _if_match(scene: Scene) -> dict[str, str]:
    # Any current version: what the tags themselves mean is tests/api/test_conditional_requests.
    return {"If-Match": "*"}


EXPECTATIONS = {
    "listWorkstreams": Expect(
        SIGNED_IN,
        arrange=a_workstream(),
        query=lambda s: {"limit": 100},
        check=_workstream_listed,
    ),
    "createWorkstream": Expect(
        CREATE,
        body=lambda s: {
            "organisation_id": s.target.id,
            "title": "Letters workflow",
            "purpose": "Take clinical correspondence off GPs.",
        },
    ),
    "getWorkstream": Expect(READ, arrange=a_workstream(), check=_can_manage_shown),
    "updateWorkstream": Expect(
        manage(200),
        arrange=a_workstream(),
        body=lambda s: {"status": "active"},
        headers=_if_match,
    ),
    # Practice 1 joins (201 the first time); leaves while it takes part (200).
    "joinWorkstream": Expect(speak_for_practice(201), arrange=a_workstream(taking_part=False)),
    "leaveWorkstream": Expect(speak_for_practice(200), arrange=a_workstream()),
    "linkProblem": Expect(manage(201), arrange=a_workstream(problem="posted")),
    "unlinkProblem": Expect(manage(204), arrange=a_workstream(problem="linked")),
    "listActions": Expect(READ, arrange=a_workstream(action=True), check=_listed("actions")),
    "createAction": Expect(
        write_for_practice(201),
        arrange=a_workstream(),
        body=lambda s: {
            "title": "Audit a week of letters",
            "owner_id": s.author.id,
            "practice_id": acting_practice(s),
            "due_on": "2030-01-01",
        },
    ),
    "getAction": Expect(READ, arrange=a_workstream(action=True)),
    "updateAction": Expect(
        write_for_practice(200),
        arrange=a_workstream(action=True),
        body=lambda s: {"status": "done"},
    ),
    "listCheckIns": Expect(READ, arrange=a_workstream(check_in=True), check=_listed("check-ins")),
    "getCheckIn": Expect(READ, arrange=a_workstream(check_in=True)),
    "listMeetings": Expect(READ, arrange=a_workstream()),
    "createCheckIn": Expect(
        CHECK_IN,
        arrange=a_workstream(),
        body=lambda s: {
            "body": "We started scanning at source.",
            "practice_id": acting_practice(s),
        },
    ),
    # Moderation (api/moderation.py): reports by anyone who reads it; hiding and redaction by
    # the owner's administrators who read it.
    "reportWorkstream": Expect(
        created(READ), arrange=a_workstream(), body=lambda s: {"reason": "Names a colleague"}
    ),
    "hideWorkstream": Expect(moderate(200), arrange=a_workstream(), body=lambda s: {}),
    "unhideWorkstream": Expect(UNHIDE, arrange=a_workstream(hidden=True), body=lambda s: {}),
    "redactWorkstream": Expect(
        moderate(200), arrange=a_workstream(), body=lambda s: {"text": "correspondence"}
    ),
}
