"""Organisations: federations, PCNs and practices."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from network.organisations.models import Organisation, OrganisationKind

_seq = itertools.count(1)


def organisation(
    session: Session,
    kind: OrganisationKind | str,
    parent: Organisation | None = None,
    *,
    name: str | None = None,
    ods_code: str | None = None,
) -> Organisation:
    kind = OrganisationKind(kind)
    org = Organisation(
        kind=kind,
        name=name or f"{kind.value.title()} {next(_seq)}",
        parent_id=parent.id if parent else None,
        ods_code=ods_code,
    )
    session.add(org)
    session.flush()
    return org
