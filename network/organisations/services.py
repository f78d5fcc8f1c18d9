"""Reading and changing the organisation tree, under the rules of `network.access`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from network import access
from network.access import Principal
from network.audit import services as audit
from network.errors import Conflict, Forbidden, Invalid
from network.organisations.models import PARENT_KINDS, Organisation, OrganisationKind
from network.pagination import Page, decode_cursor, page_from_rows
from network.text import clean_name
from network.uow import UnitOfWork


def get(uow: UnitOfWork, principal: Principal, organisation_id: int) -> Organisation:
    """An organisation the principal may see, or NotFound."""
    access.visible_chain(uow.session, principal, organisation_id)
    return uow.session.get_one(Organisation, organisation_id)


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    *,
    kind: OrganisationKind | None = None,
    parent_id: int | None = None,
    q: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[Organisation]:
    """The organisations of the principal's federations (all, for superusers), by name."""
    condition, joins = access.visible_organisations(principal)
    stmt = select(Organisation)
    for target, on in joins:
        stmt = stmt.outerjoin(target, on)
    stmt = stmt.where(condition)
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    if parent_id is not None:
        stmt = stmt.where(Organisation.parent_id == parent_id)
    if q:
        pattern = (
            "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(
                func.lower(Organisation.name).like(pattern, escape="\\"),
                func.lower(Organisation.ods_code).like(pattern, escape="\\"),
            )
        )
    after = decode_cursor(cursor, (str, int))
    if after is not None:
        stmt = stmt.where(tuple_(Organisation.name, Organisation.id) > tuple_(*after))
    stmt = stmt.order_by(Organisation.name, Organisation.id).limit(limit + 1)
    rows = list(uow.session.scalars(stmt))
    return page_from_rows(rows, limit, lambda o: (o.name, o.id))


@dataclass(frozen=True)
class Board:
    """A board the principal reads, and what they may do there."""

    organisation: Organisation
    can_post: bool
    can_administer: bool


_PARENT = aliased(Organisation, name="parent")


def get_boards(
    uow: UnitOfWork, principal: Principal, *, limit: int, cursor: str | None = None
) -> Page[Board]:
    """Every board the principal reads — their organisations and those organisations'
    ancestors — by name, so an app need not walk `parent_id`; one statement."""
    stmt = (
        select(Organisation, _PARENT.parent_id)
        .outerjoin(_PARENT, _PARENT.id == Organisation.parent_id)
        .where(Organisation.id.in_(sorted(access.readable_board_ids(principal))))
    )
    after = decode_cursor(cursor, (str, int))
    if after is not None:
        stmt = stmt.where(tuple_(Organisation.name, Organisation.id) > tuple_(*after))
    rows = uow.session.execute(stmt.order_by(Organisation.name, Organisation.id).limit(limit + 1))
    boards = []
    for organisation, grandparent_id in rows:
        chain = [i for i in (organisation.id, organisation.parent_id, grandparent_id) if i]
        boards.append(
            Board(
                organisation=organisation,
                can_post=access.can_post_on_board(principal, organisation.id),
                can_administer=access.can_administer(principal, chain),
            )
        )
    return page_from_rows(boards, limit, lambda b: (b.organisation.name, b.organisation.id))


def create(
    uow: UnitOfWork,
    principal: Principal,
    *,
    kind: OrganisationKind,
    name: str,
    parent_id: int | None = None,
    ods_code: str | None = None,
) -> Organisation:
    """Create an organisation under a parent the principal administers (federations: superusers)."""
    parent_chain = None
    if kind is OrganisationKind.federation:
        if parent_id is not None:
            raise Invalid("A federation has no parent.", field="parent_id")
    else:
        if parent_id is None:
            raise Invalid(f"A {kind.value} needs a parent_id.", field="parent_id")
        parent_chain = access.visible_chain(uow.session, principal, parent_id, field="parent_id")
    if not access.can_create_organisation(principal, kind, parent_chain):
        raise Forbidden(
            "Only superusers create federations."
            if kind is OrganisationKind.federation
            else "Only administrators of the parent organisation may create one under it."
        )
    if parent_id is not None:
        _check_parent_kind(uow, kind, parent_id)
    organisation = Organisation(
        kind=kind, name=clean_name(name), parent_id=parent_id, ods_code=_clean_code(ods_code)
    )
    uow.session.add(organisation)
    _flush_unique(uow, organisation.ods_code)
    audit.record_by(
        uow,
        principal,
        "organisation.created",
        organisation_id=organisation.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details={"kind": kind.value, "name": organisation.name, "parent_id": parent_id},
    )
    return organisation


def update(
    uow: UnitOfWork, principal: Principal, organisation_id: int, **changes: object
) -> Organisation:
    """Change an organisation's name, ODS code, parent or active flag (its administrators)."""
    chain = access.visible_chain(uow.session, principal, organisation_id)
    if not access.can_administer(principal, chain):
        raise Forbidden("Only the organisation's administrators may change it.")
    organisation = uow.session.get_one(Organisation, organisation_id)
    moving = "parent_id" in changes and changes["parent_id"] != organisation.parent_id
    if moving:
        # Checked before anything changes: its queries would flush the changes first
        # (autoflush), and a taken ODS code would fail there, outside `_flush_unique`'s
        # savepoint, rather than as a 409.
        _check_move(uow, principal, organisation, changes["parent_id"])  # type: ignore[arg-type]
    if "name" in changes:
        organisation.name = clean_name(str(changes["name"]))
    if "ods_code" in changes:
        organisation.ods_code = _clean_code(changes["ods_code"])  # type: ignore[arg-type]
    if "active" in changes:
        organisation.active = bool(changes["active"])
    if moving:
        organisation.parent_id = changes["parent_id"]  # type: ignore[assignment]
    _flush_unique(uow, organisation.ods_code)
    audit.record_by(
        uow,
        principal,
        "organisation.updated",
        organisation_id=organisation.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details={key: value for key, value in changes.items() if key != "active"}
        | ({"active": bool(changes["active"])} if "active" in changes else {}),
    )
    return organisation


def _check_move(
    uow: UnitOfWork, principal: Principal, organisation: Organisation, parent_id: int | None
) -> None:
    """Whether the organisation may move under `parent_id` (raises if not); it does not move."""
    if organisation.kind is OrganisationKind.federation or parent_id is None:
        raise Invalid(
            "Only PCNs and practices move, and they always have a parent.", field="parent_id"
        )
    new_chain = access.visible_chain(uow.session, principal, parent_id, field="parent_id")
    if not access.can_administer(principal, new_chain):
        raise Forbidden("Moving an organisation needs administration of its new parent too.")
    _check_parent_kind(uow, organisation.kind, parent_id)


def _check_parent_kind(uow: UnitOfWork, kind: OrganisationKind, parent_id: int) -> None:
    parent_kind = uow.session.scalar(select(Organisation.kind).where(Organisation.id == parent_id))
    allowed = PARENT_KINDS[kind]
    if parent_kind not in allowed:
        raise Invalid(
            f"A {kind.value}'s parent must be a {' or a '.join(k.value for k in allowed)}.",
            field="parent_id",
        )


def _clean_code(code: str | None) -> str | None:
    if code is None:
        return None
    cleaned = code.strip().upper()
    return cleaned or None


def _flush_unique(uow: UnitOfWork, ods_code: str | None) -> None:
    try:
        with uow.session.begin_nested():
            uow.session.flush()
    except IntegrityError:
        raise Conflict(
            f"An organisation with ODS code {ods_code} already exists.", field="ods_code"
        ) from None
