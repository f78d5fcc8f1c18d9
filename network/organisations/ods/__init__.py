"""NHS Organisation Data Service files: reading them (`parsing`), importing them (`importing`)
and what an import did (`summary`)."""

from network.organisations.ods.importing import import_ods, import_records
from network.organisations.ods.parsing import (
    OdsFileError,
    PcnRelationship,
    PracticeRecord,
    PracticeStatus,
    parse_pcn_relationships,
    parse_practices,
    read_pcn_relationships,
    read_practices,
)
from network.organisations.ods.summary import Counts, ImportSummary, Skipped

__all__ = [
    "Counts",
    "ImportSummary",
    "OdsFileError",
    "PcnRelationship",
    "PracticeRecord",
    "PracticeStatus",
    "Skipped",
    "import_ods",
    "import_records",
    "parse_pcn_relationships",
    "parse_practices",
    "read_pcn_relationships",
    "read_practices",
]
