"""The authorization matrix (DESIGN.md, "Tests"): every operation of the OpenAPI document, for
every principal, on a practice, a PCN and a federation, against API.md's "Who may do what".

The expectations below are written from API.md, not from the code:

- Organisations are reference data: everyone in a federation sees its organisations; for someone
  from another federation an organisation of federation A does not exist (404, and the 404 does
  not give its name away).
- Acting on a visible organisation without the right is 403.
- Administering an organisation (settings, members): its admins, the admins of its ancestors,
  and superusers. Creating one: administrators of its parent (federations: superusers).
- Listing members: the organisation's own (direct) members and its administrators.
- Without a token every operation that is not public is 401; public operations are 200 for all.

A new operation in the document fails `test_every_operation_has_expectations` until its row is
added to `MATRIX`; a row for an operation that no longer exists fails it too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from sqlalchemy.orm import Session

from api.spec import ISSUER_OPERATIONS
from network.organisations.models import Organisation
from network.people.models import Person
from tests import factories

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

PRINCIPALS = (
    "anonymous",  # no token
    "other_federation",  # member of practice4, in federation B
    "other_pcn",  # member of practice3: federation A, PCN 2
    "other_practice",  # member of practice2: PCN 1, like practice1
    "member",  # member of the object's organisation
    "admin",  # admin of the object's organisation
    "pcn_admin",  # admin of the object's PCN (PCN 1; for the federation, a PCN below it)
    "superuser",
)

# The object's kind -> the organisation of the `net` fixture that plays it.
OBJECTS = {"practice": "practice1", "pcn": "pcn1", "federation": "fed_a"}
KINDS = tuple(OBJECTS)

Row = tuple[int, int, int]  # expected status on (practice, pcn, federation)
Table = Mapping[str, Row]


def table(**rows: Row) -> Table:
    """An expectation table: one row per principal, one column per object kind."""
    assert set(rows) == set(PRINCIPALS), f"a table needs exactly the rows {PRINCIPALS}"
    assert all(len(row) == len(KINDS) for row in rows.values())
    return rows


def same_for_all(status: int, *, anonymous: int) -> Table:
    return table(**{p: (anonymous if p == "anonymous" else status,) * 3 for p in PRINCIPALS})


# Public operations: 200 for everyone, token or not.
PUBLIC = same_for_all(200, anonymous=200)

# The signed-in person's own things (/me, /me/digest), and the organisation list, which is
# always "the organisations of your federation(s)": 200 for anyone signed in.
SIGNED_IN = same_for_all(200, anonymous=401)

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

# The audit log: superusers read all of it, administrators the entries of what they administer.
# Filtering by an organisation is a filter on that list, not an act on the organisation: any
# administrator gets 200 (with what they may see of it); people who administer nothing, 403.
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


@dataclass
class Scene:
    """One case's world: the network, the object, the caller and, when the path needs one, a
    plain member of the object to manage."""

    net: factories.Network
    kind: str
    principal: str
    caller: Person | None
    target: Organisation
    plain_member: Person | None = None
    totp_secret: str | None = None
    problem_id: int | None = None
    comment_id: int | None = None
    report_id: int | None = None

    @property
    def parent_for_child(self) -> Organisation:
        """Where `createOrganisation` puts its new organisation (see CREATE_CHILD)."""
        return self.net.fed_a if self.kind == "federation" else self.net.pcn1


@dataclass(frozen=True)
class Expect:
    """What one operation must answer, and how to build a valid request for a scene."""

    statuses: Table
    body: Callable[[Scene], dict[str, Any]] | None = None
    query: Callable[[Scene], dict[str, Any]] = field(default=lambda scene: {})
    arrange: Callable[[Scene, Session], None] | None = None  # state the request needs first
    check: Callable[[Scene, Any], None] | None = None  # more assertions on a 2xx answer
    headers: Callable[[Scene], dict[str, str]] = field(default=lambda scene: {})


def _listed_organisations(scene: Scene, response) -> None:
    ids = {item["id"] for item in response.get_json()["items"]}
    # The organisations of the caller's federation(s), all of them for superusers.
    assert (scene.target.id in ids) is (scene.principal != "other_federation")


def _is_the_caller(scene: Scene, response) -> None:
    assert response.get_json()["id"] == scene.caller.id


def _totp(*, enabled: bool) -> Callable[[Scene, Session], None]:
    """Give the caller a two-step sign-in secret: set-up started, or (`enabled`) turned on."""

    def arrange(scene: Scene, session: Session) -> None:
        scene.totp_secret = pyotp.random_base32()
        if scene.caller is not None:
            scene.caller.totp_secret = scene.totp_secret
            scene.caller.totp_enabled = enabled
            session.flush()

    return arrange


def _current_code(scene: Scene) -> dict[str, Any]:
    return {"code": pyotp.TOTP(scene.totp_secret).now()}


def _new_child(scene: Scene) -> dict[str, Any]:
    kind = "pcn" if scene.kind == "federation" else "practice"
    return {"kind": kind, "name": f"New {kind}", "parent_id": scene.parent_for_child.id}


DIGEST = {
    "frequency": "weekly",
    "weekday": 1,
    "hour": 8,
    "timezone": "Europe/London",
    "content": "titles",
}

# --- content: a problem on the object's board, posted by the object's member ----------------
#
# Reading content: people who belong to the board's organisation (members of it or of its
# descendants). A practice's content is for that practice's people only: its PCN's admin and
# superusers who are not members get 404, like content that does not exist.
# fmt: off
READ_CONTENT = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 200),
    other_practice=   (404,    200, 200),
    member=           (200,    200, 200),
    admin=            (200,    200, 200),
    pcn_admin=        (404,    200, 200),
    superuser=        (404,    404, 404),
)

# Posting on a board: being able to read it. The board is a visible organisation, so not
# belonging to it is 403; an organisation of another federation does not exist (404).
POST_ON_BOARD = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (403,    403, 201),
    other_practice=   (403,    201, 201),
    member=           (201,    201, 201),
    admin=            (201,    201, 201),
    pcn_admin=        (403,    201, 201),
    superuser=        (403,    403, 403),
)


def edit_content(ok: int) -> Table:
    """The author (the object's member) and the board's administrators who can read it."""
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (404,    403, 403),
        member=           (ok,     ok,  ok),
        admin=            (ok,     ok,  ok),
        pcn_admin=        (404,    ok,  403),
        superuser=        (404,    404, 404),
    )


def moderate(ok: int) -> Table:
    """The board's administrators who can read it; not the author as such."""
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (404,    403, 403),
        member=           (403,    403, 403),
        admin=            (ok,     ok,  ok),
        pcn_admin=        (404,    ok,  403),
        superuser=        (404,    404, 404),
    )


# "We have this too" needs a practice: the object's member and admin on the practice board are
# of the author's practice (already counted: 200); PCN and federation people have no practice.
SIGNAL = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 201),
    other_practice=   (404,    201, 201),
    member=           (200,    403, 403),
    admin=            (200,    403, 403),
    pcn_admin=        (404,    403, 403),
    superuser=        (404,    404, 404),
)

# Withdrawing: practices 2 and 3 signalled where they can read; the author's own practice
# cannot withdraw (409); someone whose practice never signalled gets 404.
WITHDRAW = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 204),
    other_practice=   (404,    204, 204),
    member=           (409,    404, 404),
    admin=            (409,    404, 404),
    pcn_admin=        (404,    404, 404),
    superuser=        (404,    404, 404),
)

# The reports of a board: its moderators; asking for a board you do not moderate is 403.
LIST_REPORTS = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (403,    403, 403),
    other_pcn=        (403,    403, 403),
    other_practice=   (403,    403, 403),
    member=           (403,    403, 403),
    admin=            (200,    200, 200),
    pcn_admin=        (403,    200, 403),
    superuser=        (403,    403, 403),
)
# fmt: on


def _problem(*, idea: bool = False, signals: bool = False, report: bool = False):
    """Arrange: the object's member posts a problem on the object's board (and, as asked, an
    idea on it, "we have this too" from practices 2 and 3 where they read it, a report)."""

    def arrange(scene: Scene, session: Session) -> None:
        from network.access import load_principal
        from network.problems import moderation, services
        from network.uow import UnitOfWork

        uow = UnitOfWork(lambda: session)
        author = load_principal(session, scene.net.members[OBJECTS[scene.kind]])
        problem = services.create(
            uow, author, board_id=scene.target.id, title="Discharge letters", body="Five PDFs."
        )
        scene.problem_id = problem.id
        if idea:
            scene.comment_id = services.add_comment(
                uow, author, problem.id, body="Ask for one PDF", kind="idea"
            ).id
        if signals:
            for key in ("practice2", "practice3"):
                reader = load_principal(session, scene.net.members[key])
                if scene.target.id in reader.belongs:
                    services.signal_affected(uow, reader, problem.id)
        if report:
            scene.report_id = moderation.report(uow, author, problem.id, reason="Off topic").id
        session.flush()

    return arrange


def _problem_listed(scene: Scene, response) -> None:
    ids = {item["id"] for item in response.get_json()["items"]}
    assert (scene.problem_id in ids) is (
        READ_CONTENT[scene.principal][KINDS.index(scene.kind)] == 200
    )


def _boards_listed(scene: Scene, response) -> None:
    boards = {item["id"]: item for item in response.get_json()["items"]}
    readable = READ_CONTENT[scene.principal][KINDS.index(scene.kind)] == 200
    assert (scene.target.id in boards) is readable
    if readable:
        board = boards[scene.target.id]
        assert board["can_post"] is True
        administers = scene.principal in ("admin", "superuser") or (
            scene.principal == "pcn_admin" and scene.kind != "federation"
        )
        assert board["can_administer"] is administers, board


def _if_match(scene: Scene) -> dict[str, str]:
    # Any current version: what the tags themselves mean is tests/api/test_conditional_requests.
    return {"If-Match": "*"}


MATRIX: dict[str, Expect] = {
    # Public.
    "getHealth": Expect(PUBLIC),
    "getReadiness": Expect(PUBLIC),
    "getJwks": Expect(PUBLIC),
    # The signed-in person.
    "getMe": Expect(SIGNED_IN, check=_is_the_caller),
    "updateMe": Expect(SIGNED_IN, body=lambda s: {"staff_group": "nurse"}, check=_is_the_caller),
    "listMyBoards": Expect(SIGNED_IN, query=lambda s: {"limit": 100}, check=_boards_listed),
    "getMyDigestPreference": Expect(SIGNED_IN),
    "setMyDigestPreference": Expect(SIGNED_IN, body=lambda s: dict(DIGEST)),
    # Two-step sign-in: the caller's own. Starting needs it off (as it is for everyone in `net`);
    # confirming needs a started set-up and the current code; turning it off needs it on and the
    # current code, and is refused to superusers (409: they must keep it on).
    "startMfa": Expect(SIGNED_IN),
    "confirmMfa": Expect(
        SIGNED_IN, arrange=_totp(enabled=False), body=_current_code, check=_is_the_caller
    ),
    "disableMfa": Expect(
        table(**{**same_for_all(204, anonymous=401), "superuser": (409, 409, 409)}),
        arrange=_totp(enabled=True),
        body=_current_code,
    ),
    # Organisations.
    "listOrganisations": Expect(
        SIGNED_IN, query=lambda s: {"q": s.target.name, "limit": 100}, check=_listed_organisations
    ),
    "createOrganisation": Expect(CREATE_CHILD, body=_new_child),
    "getOrganisation": Expect(SEE),
    "updateOrganisation": Expect(
        administer(200), body=lambda s: {"name": f"{s.target.name} (renamed)"}
    ),
    # Members.
    "listMembers": Expect(LIST_MEMBERS),
    "addMember": Expect(
        administer(201), body=lambda s: {"email": "invitee.matrix@example.org", "role": "member"}
    ),
    "updateMember": Expect(administer(200), body=lambda s: {"role": "admin"}),
    "removeMember": Expect(administer(204)),
    # Audit.
    "listAudit": Expect(LIST_AUDIT, query=lambda s: {"organisation_id": s.target.id}),
    # Problem boards.
    "listProblems": Expect(
        SIGNED_IN,
        arrange=_problem(),
        query=lambda s: {"board_id": s.target.id},
        check=_problem_listed,
    ),
    "createProblem": Expect(
        POST_ON_BOARD,
        body=lambda s: {
            "board_id": s.target.id,
            "title": "Reception can't book the physio",
            "body": "x",
        },
    ),
    "getProblem": Expect(READ_CONTENT, arrange=_problem()),
    "updateProblem": Expect(
        edit_content(200),
        arrange=_problem(),
        body=lambda s: {"status": "discussing"},
        headers=_if_match,
    ),
    "deleteProblem": Expect(edit_content(204), arrange=_problem()),
    "listAffected": Expect(READ_CONTENT, arrange=_problem()),
    "signalAffected": Expect(SIGNAL, arrange=_problem(), body=lambda s: {"note": "Same here"}),
    "withdrawAffected": Expect(WITHDRAW, arrange=_problem(signals=True)),
    "listComments": Expect(READ_CONTENT, arrange=_problem(idea=True)),
    "createComment": Expect(
        table(**{p: tuple(201 if c == 200 else c for c in row) for p, row in READ_CONTENT.items()}),
        arrange=_problem(),
        body=lambda s: {"body": "We have this at our practice too"},
    ),
    "acceptIdea": Expect(edit_content(200), arrange=_problem(idea=True)),
    # Moderation.
    "reportProblem": Expect(
        table(**{p: tuple(201 if c == 200 else c for c in row) for p, row in READ_CONTENT.items()}),
        arrange=_problem(),
        body=lambda s: {"reason": "Names a colleague"},
    ),
    "listReports": Expect(
        LIST_REPORTS,
        arrange=_problem(report=True),
        query=lambda s: {"organisation_id": s.target.id},
    ),
    "updateReport": Expect(
        moderate(200), arrange=_problem(report=True), body=lambda s: {"status": "resolved"}
    ),
    "hideProblem": Expect(moderate(200), arrange=_problem()),
    "unhideProblem": Expect(moderate(200), arrange=_problem()),
    "redactProblem": Expect(moderate(200), arrange=_problem(), body=lambda s: {"text": "PDFs"}),
    "listActivity": Expect(
        SIGNED_IN, arrange=_problem(), query=lambda s: {"organisation_id": s.target.id}
    ),
}


# --- the operations of the document ---------------------------------------------------------


def operations(app) -> dict[str, tuple[str, str]]:
    """operationId -> (HTTP method, path template), for every operation of the document but
    the issuer's OAuth endpoints (they authenticate clients and answer as OAuth does:
    tests/api/test_oidc.py and test_signin_flow.py)."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in app.extensions["commons_api"].spec.to_dict()["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                op_id = item[method].get("operationId")
                assert op_id, f"{method.upper()} {path} has no operationId"
                if op_id in ISSUER_OPERATIONS:
                    continue
                assert op_id not in found, f"operationId {op_id} is used twice"
                found[op_id] = (method, path)
    return found


def test_every_operation_has_expectations(app):
    in_document = set(operations(app))
    missing = sorted(in_document - set(MATRIX))
    stale = sorted(set(MATRIX) - in_document)
    assert not missing, f"operations without expectations in MATRIX: {missing}"
    assert not stale, f"MATRIX has expectations for operations that no longer exist: {stale}"


# --- the cases --------------------------------------------------------------------------------


def caller_for(net: factories.Network, principal: str, kind: str) -> Person | None:
    target = OBJECTS[kind]
    return {
        "anonymous": None,
        "other_federation": net.members["practice4"],
        "other_pcn": net.members["practice3"],
        "other_practice": net.members["practice2"],
        "member": net.members[target],
        "admin": net.admins[target],
        "pcn_admin": net.admins["pcn1"],
        "superuser": net.superuser,
    }[principal]


def _url(scene: Scene, template: str) -> str:
    values = {"organisation_id": scene.target.id}
    if scene.plain_member is not None:
        values["person_id"] = scene.plain_member.id
    for name in ("problem_id", "comment_id", "report_id"):
        if getattr(scene, name) is not None:
            values[name] = getattr(scene, name)
    try:
        return template.format(**values)
    except KeyError as exc:  # a new kind of path parameter: say how to fill it in `_url`
        raise AssertionError(f"no value for path parameter {exc} of {template}") from None


CASES = [
    pytest.param(op_id, principal, kind, id=f"{op_id}-{principal}-{kind}")
    for op_id, principal, kind in itertools.product(MATRIX, PRINCIPALS, KINDS)
]


@pytest.mark.parametrize(("op_id", "principal", "kind"), CASES)
def test_permission(op_id, principal, kind, app, client, session, net, auth):
    method, template = operations(app).get(op_id, (None, None))
    assert template is not None, f"{op_id} is not in the OpenAPI document"
    expect = MATRIX[op_id]
    scene = Scene(
        net=net,
        kind=kind,
        principal=principal,
        caller=caller_for(net, principal, kind),
        target=net.org(OBJECTS[kind]),
    )
    if "{person_id}" in template:
        scene.plain_member = factories.person(
            session, name="Plain Member", email="plain.member@example.org", member_of=scene.target
        )
    if expect.arrange is not None:
        expect.arrange(scene, session)

    headers = auth(scene.caller) if scene.caller is not None else {}
    headers |= expect.headers(scene)
    response = client.open(
        _url(scene, template),
        method=method.upper(),
        headers=headers,
        query_string=expect.query(scene),
        json=expect.body(scene) if expect.body is not None else None,
    )

    expected = expect.statuses[principal][KINDS.index(kind)]
    assert response.status_code == expected, (
        f"{method.upper()} {template} as {principal} on the {kind}: "
        f"expected {expected}, got {response.status_code}: {response.get_data(as_text=True)[:300]}"
    )
    if response.status_code >= 400:
        body = response.get_json()
        assert body["code"] == response.status_code and body["message"]
    if response.status_code == 401:
        # RFC 7235: the auth-scheme is case-insensitive.
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    if response.status_code == 404:
        # "Exactly like content that does not exist": the answer names nothing of the object.
        text = response.get_data(as_text=True)
        assert scene.target.name not in text
        if scene.target.ods_code:
            assert scene.target.ods_code not in text
    if 200 <= response.status_code < 300 and expect.check is not None:
        expect.check(scene, response)


# Creating a federation has no parent to act on: superusers only, everyone else 403.
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_only_superusers_create_federations(principal, client, net, auth):
    caller = caller_for(net, principal, "federation")
    expected = {"anonymous": 401, "superuser": 201}.get(principal, 403)
    response = client.post(
        "/api/v1/organisations",
        headers=auth(caller) if caller is not None else {},
        json={"kind": "federation", "name": "Federation C"},
    )
    assert response.status_code == expected, response.get_data(as_text=True)
