"""Importing practices and PCNs from ODS files into a federation, in the caller's transaction.

The rules, in the words of the issue:
- With a PCN file, the network is the practices in its current relationships (empty end date),
  each placed under its PCN; epraccur supplies names, addresses and status. Without one, every
  active GP practice (prescribing setting 4) goes directly under the federation.
- Closed and dormant practices are never created; those already present are marked inactive,
  never deleted. A practice whose current PCN differs from its parent is moved.
- Existing organisations are matched by ODS code. Organisations of another federation are left
  alone (skipped with the reason): an import never takes practices from another federation.
- Display names follow ODS only when ODS renames something (`source_name` changes), so a rename
  made by an administrator survives re-imports.
- Running it again with the same files changes nothing.

Only `flush()`: the caller commits once, so a failure anywhere leaves the database as it was.
Every file is read and validated before the database is touched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from network.errors import Conflict, Invalid
from network.organisations.models import Organisation, OrganisationKind
from network.organisations.ods.names import display_name
from network.organisations.ods.parsing import (
    PROGRESS_EVERY,
    PcnRelationship,
    PracticeRecord,
    PracticeStatus,
    Progress,
    read_pcn_relationships,
    read_practices,
)
from network.organisations.ods.summary import Counts, ImportSummary, Skipped
from network.text import clean_name
from network.uow import UnitOfWork

_NAME_LENGTH = 200


def _silent(_message: str) -> None:
    return None


def import_ods(
    uow: UnitOfWork,
    *,
    federation_name: str,
    practices_file: Path | str,
    pcns_file: Path | str | None = None,
    progress: Progress = _silent,
) -> ImportSummary:
    """Bring a federation's practices (and PCNs) in line with ODS files; flushes, never commits."""
    name = clean_name(federation_name, field="federation")
    if len(name) > _NAME_LENGTH:
        raise Invalid(
            f"The federation name is longer than {_NAME_LENGTH} characters.", field="federation"
        )
    practices = read_practices(practices_file, progress)
    relationships = read_pcn_relationships(pcns_file, progress) if pcns_file is not None else None
    return import_records(
        uow,
        federation_name=name,
        practices=practices,
        relationships=relationships,
        progress=progress,
    )


def import_records(
    uow: UnitOfWork,
    *,
    federation_name: str,
    practices: list[PracticeRecord],
    relationships: list[PcnRelationship] | None = None,
    progress: Progress = _silent,
) -> ImportSummary:
    """`import_ods` on records already read."""
    session = uow.session
    # One query for the whole tree: every decision below is made in memory.
    organisations = list(session.scalars(select(Organisation)))
    federation, created = _federation(session, organisations, clean_name(federation_name))
    summary = ImportSummary(
        federation_id=federation.id,
        federation_name=federation.name,
        federation_created=created,
        practice_rows=len(practices),
        relationship_rows=None if relationships is None else len(relationships),
    )
    _Import(session, federation, organisations, summary, progress).run(practices, relationships)
    return summary


def _federation(
    session: Session, organisations: list[Organisation], name: str
) -> tuple[Organisation, bool]:
    """The federation of that name (in any case), created when there is none."""
    matches = [
        o
        for o in organisations
        if o.kind is OrganisationKind.federation and o.name.casefold() == name.casefold()
    ]
    if len(matches) > 1:
        raise Conflict(f"{len(matches)} federations are named {name!r}; rename all but one first")
    if matches:
        return matches[0], False
    federation = Organisation(kind=OrganisationKind.federation, name=name, active=True)
    session.add(federation)
    session.flush()
    return federation, True


@dataclass
class _Placement:
    """A practice to create or refresh, and the parent it belongs under (None: where it is)."""

    record: PracticeRecord
    existing: Organisation | None
    parent: Organisation | None
    active: bool


class _Import:
    def __init__(
        self,
        session: Session,
        federation: Organisation,
        organisations: list[Organisation],
        summary: ImportSummary,
        progress: Progress,
    ) -> None:
        self.session = session
        self.federation = federation
        self.summary = summary
        self.progress = progress
        self.by_id = {o.id: o for o in organisations}
        self.by_code = {o.ods_code: o for o in organisations if o.ods_code}
        self.practice_codes: set[str] = set()
        self.pcn_names: dict[str, str] = {}
        self.pcns: dict[str, Organisation | str] = {}
        # New practices are inserted in bulk, without RETURNING: nothing needs their ids, and
        # SQLite cannot batch an ORM insert that must read ids back.
        self.new_practices: list[dict[str, object]] = []

    def run(
        self, records: list[PracticeRecord], relationships: list[PcnRelationship] | None
    ) -> None:
        self.practice_codes = {r.code for r in records}
        current = _current_relationships(relationships) if relationships is not None else None
        if current is not None:
            self.pcn_names = {r.pcn_code: r.pcn_name for r in current.values()}
        placements: list[_Placement] = []
        for number, record in enumerate(records, 1):
            outcome = self._place(record, current)
            if isinstance(outcome, Skipped):
                self.summary.skipped.append(outcome)
            elif isinstance(outcome, str):
                self._skip(record.code, outcome)
            else:
                placements.append(outcome)
            if number % PROGRESS_EVERY == 0:
                self.progress(f"{number:,} of {len(records):,} practices checked")
        for code in current or {}:
            if code not in self.practice_codes:
                self._skip(code, "in the PCN file but not in epraccur")

        # New PCNs get their ids here, so practices can be placed under them.
        self.session.flush()
        for placement in placements:
            self._apply(placement)
        if len(records) >= PROGRESS_EVERY:
            self.progress(
                f"saving {self.summary.created:,} new and {self.summary.updated:,} "
                "changed organisations"
            )
        self.session.flush()
        if self.new_practices:
            self.session.execute(insert(Organisation), self.new_practices)

    def _place(
        self, record: PracticeRecord, current: dict[str, PcnRelationship] | None
    ) -> _Placement | Skipped | str:
        """Where a practice goes, or why it is skipped."""
        if not record.is_gp_practice:
            reason = f"not a GP practice (prescribing setting {record.prescribing_setting})"
            return Skipped(record.code, reason, group="not a GP practice")
        existing = self.by_code.get(record.code)
        if existing is not None:
            problem = self._conflict(existing, OrganisationKind.practice)
            if problem:
                return problem
        if record.status in (PracticeStatus.closed, PracticeStatus.dormant):
            if existing is None:
                return record.status.value
            return _Placement(record, existing, parent=None, active=False)
        if record.status is PracticeStatus.proposed:
            return "proposed (not open yet)"
        if current is None:
            return _Placement(
                record, existing, parent=None if existing else self.federation, active=True
            )
        relationship = current.get(record.code)
        if relationship is None:
            if existing is None:
                return "no current PCN relationship"
            return _Placement(record, existing, parent=None, active=True)
        pcn = self._pcn(relationship.pcn_code)
        if isinstance(pcn, str):
            return pcn
        return _Placement(record, existing, parent=pcn, active=True)

    def _pcn(self, code: str) -> Organisation | str:
        """The PCN organisation for a code, created or refreshed once per import."""
        if code in self.pcns:
            return self.pcns[code]
        source_name = self.pcn_names[code].strip()
        existing = self.by_code.get(code)
        result: Organisation | str
        if code in self.practice_codes:
            result = f"its PCN code {code} is also a practice code in epraccur"
        elif existing is None:
            result = Organisation(
                kind=OrganisationKind.pcn,
                name=display_name(source_name),
                source_name=source_name,
                ods_code=code,
                parent_id=self.federation.id,
                active=True,
            )
            self.session.add(result)
            self.summary.pcns.created += 1
        elif problem := self._conflict(existing, OrganisationKind.pcn):
            result = f"its PCN {code}: {problem}"
        else:
            result = existing
            changed = _refresh(existing, source_name=source_name, active=True)
            _count(self.summary.pcns, changed)
        self.pcns[code] = result
        return result

    def _apply(self, placement: _Placement) -> None:
        record = placement.record
        source_name = record.name.strip()
        address = ", ".join(display_name(line) for line in record.address_lines) or None
        postcode = record.postcode or None
        parent_id = placement.parent.id if placement.parent is not None else None
        if placement.existing is None:
            self.new_practices.append(
                {
                    "kind": OrganisationKind.practice,
                    "name": display_name(source_name),
                    "source_name": source_name,
                    "ods_code": record.code,
                    "parent_id": parent_id,
                    "active": placement.active,
                    "address": address,
                    "postcode": postcode,
                }
            )
            self.summary.practices.created += 1
            return
        changed = _refresh(
            placement.existing,
            source_name=source_name,
            active=placement.active,
            address=address,
            postcode=postcode,
            **({"parent_id": parent_id} if parent_id is not None else {}),
        )
        _count(self.summary.practices, changed)

    def _conflict(self, organisation: Organisation, kind: OrganisationKind) -> str | None:
        """Why an existing organisation with the code cannot be used, if it cannot."""
        if organisation.kind is not kind:
            return f"ODS code already used by the {organisation.kind.value} {organisation.name!r}"
        home = self._federation_of(organisation)
        if home.id != self.federation.id:
            return f"already in federation {home.name!r}"
        return None

    def _federation_of(self, organisation: Organisation) -> Organisation:
        while organisation.parent_id is not None:
            organisation = self.by_id[organisation.parent_id]
        return organisation

    def _skip(self, code: str, reason: str) -> None:
        self.summary.skipped.append(Skipped(code, reason))


def _current_relationships(relationships: list[PcnRelationship]) -> dict[str, PcnRelationship]:
    """Each practice's current relationship, by practice code, in file order.

    A practice listed as current in two PCNs (a move recorded before the old one was ended)
    belongs to the one that started last; on the same day, the later row."""
    current: dict[str, PcnRelationship] = {}
    for relationship in relationships:
        if not relationship.is_current:
            continue
        before = current.get(relationship.practice_code)
        if before is None or _started(relationship) >= _started(before):
            current[relationship.practice_code] = relationship
    return current


def _started(relationship: PcnRelationship) -> date:
    return relationship.start_date or date.min


def _refresh(organisation: Organisation, *, source_name: str, **values: object) -> bool:
    """Bring an existing organisation in line with ODS; True when anything changed.

    The display name follows ODS only when the source name changes (or was never recorded)."""
    changed = False
    if organisation.source_name != source_name:
        organisation.source_name = source_name
        organisation.name = display_name(source_name)
        changed = True
    for attribute, value in values.items():
        if getattr(organisation, attribute) != value:
            setattr(organisation, attribute, value)
            changed = True
    return changed


def _count(counts: Counts, changed: bool) -> None:
    if changed:
        counts.updated += 1
    else:
        counts.unchanged += 1
