"""NHS Organisation Data Service files: reading them (`parsing`), importing them (`importing`)."""

from network.organisations.ods.importing import (
    Counts,
    ImportSummary,
    Skipped,
    import_ods,
    import_records,
)
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
