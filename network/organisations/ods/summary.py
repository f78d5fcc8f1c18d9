"""What an ODS import did, for the command to print or emit as JSON: counts of created,
updated and unchanged practices and PCNs, and every code left alone with the reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Skipped:
    """A code the import left alone, and why. `group` gathers similar reasons for reading."""

    code: str
    reason: str
    group: str | None = None


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    """What an import did. `created`/`updated`/`unchanged` count practices and PCNs (each once);
    the federation is reported on its own."""

    federation_id: int
    federation_name: str
    federation_created: bool
    practice_rows: int
    relationship_rows: int | None
    practices: Counts = field(default_factory=Counts)
    pcns: Counts = field(default_factory=Counts)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.practices.created + self.pcns.created

    @property
    def updated(self) -> int:
        return self.practices.updated + self.pcns.updated

    @property
    def unchanged(self) -> int:
        return self.practices.unchanged + self.pcns.unchanged

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.federation_created)

    def skipped_by_reason(self) -> dict[str, list[str]]:
        """Skipped codes grouped by reason, in the order reasons first appear."""
        groups: dict[str, list[str]] = {}
        for skipped in self.skipped:
            groups.setdefault(skipped.group or skipped.reason, []).append(skipped.code)
        return groups

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [{"code": s.code, "reason": s.reason} for s in self.skipped],
            "federation": {
                "id": self.federation_id,
                "name": self.federation_name,
                "created": self.federation_created,
            },
            "practices": asdict(self.practices),
            "pcns": asdict(self.pcns),
            "rows": {"practices": self.practice_rows, "pcn_relationships": self.relationship_rows},
        }
