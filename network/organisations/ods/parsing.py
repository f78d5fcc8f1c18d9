"""Reading the NHS Organisation Data Service files: epraccur.csv and the PCN core partner CSV.

Pure functions over text; nothing here touches the database. Any problem with a file raises
`OdsFileError` with a one-line message naming the file and, where there is one, the line."""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from network.errors import Invalid
from network.text import collapse_whitespace

PROGRESS_EVERY = 1000
EPRACCUR_COLUMNS = 27
GP_PRACTICE_SETTING = 4

_CODE = re.compile(r"^[A-Z0-9]{3,16}$")
_XLSX_SIGNATURE = b"PK\x03\x04"
# Names are stored in 200 characters (`Organisation.name`, `source_name`); no real cell comes close.
_CELL_LENGTH = 200
_POSTCODE_LENGTH = 16

Progress = Callable[[str], None]


def _silent(_message: str) -> None:
    return None


class OdsFileError(Invalid):
    """An ODS file that cannot be read as the layout it should have."""


class PracticeStatus(enum.StrEnum):
    active = "active"
    closed = "closed"
    dormant = "dormant"
    proposed = "proposed"


# Older exports use the one-letter code, newer ones spell the status out.
_STATUSES = {
    "A": PracticeStatus.active,
    "ACTIVE": PracticeStatus.active,
    "C": PracticeStatus.closed,
    "CLOSED": PracticeStatus.closed,
    "D": PracticeStatus.dormant,
    "DORMANT": PracticeStatus.dormant,
    "P": PracticeStatus.proposed,
    "PROPOSED": PracticeStatus.proposed,
}


@dataclass(frozen=True, slots=True)
class PracticeRecord:
    """One row of epraccur.csv, with the fields Commons keeps."""

    code: str
    name: str  # as published, white space untouched
    address_lines: tuple[str, ...]
    postcode: str
    open_date: date | None
    close_date: date | None
    status: PracticeStatus
    prescribing_setting: int
    region: str = ""  # National Grouping (an NHS England region)
    commissioner: str = ""  # the commissioner (a sub-ICB location)

    @property
    def is_gp_practice(self) -> bool:
        return self.prescribing_setting == GP_PRACTICE_SETTING


@dataclass(frozen=True, slots=True)
class PcnRelationship:
    """One row of the PCN core partner file: a practice's membership of a PCN over a period."""

    practice_code: str
    practice_name: str
    pcn_code: str
    pcn_name: str  # as published
    start_date: date | None
    end_date: date | None

    @property
    def is_current(self) -> bool:
        """An empty end date is a current relationship; an ended one is history."""
        return self.end_date is None


# The PCN core partner file's columns as NHS England names them, and the field each fills
# (None: read past). Headers are matched after collapsing white space, in any case.
PCN_FILE_COLUMNS = (
    ("Partner Organisation Code", "practice_code"),
    ("Partner Name", "practice_name"),
    ("Practice Parent Sub ICB Location Code", None),
    ("Practice Parent Sub ICB Location Name", None),
    ("PCN Code", "pcn_code"),
    ("PCN Name", "pcn_name"),
    ("PCN Parent Sub ICB Location Code", None),
    ("PCN Parent Sub ICB Location Name", None),
    ("Practice to PCN Relationship Start Date", "start_date"),
    ("Practice to PCN Relationship End Date", "end_date"),
    ("Practice Sub ICB and PCN Sub ICB Match?", None),
)
_PCN_REQUIRED = {
    field: name
    for name, field in PCN_FILE_COLUMNS
    if field in ("practice_code", "pcn_code", "pcn_name", "end_date")
}


def read_text(path: Path | str) -> str:
    """The text of a CSV file: UTF-8 (with or without a byte order mark) or Windows-1252."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OdsFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return decode_text(data, path.name)


def decode_text(data: bytes, name: str) -> str:
    """The text of a CSV file's bytes: UTF-8 (with or without a byte order mark) or
    Windows-1252; an Excel workbook or binary data is refused, naming the file."""
    if data.startswith(_XLSX_SIGNATURE):
        raise OdsFileError(
            f"{name}: is not a CSV file (it looks like an Excel workbook; export the sheet as CSV)"
        )
    if b"\x00" in data:
        raise OdsFileError(f"{name}: is not a CSV file (it holds binary data)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise OdsFileError(f"{name}: is not a CSV file (it is not UTF-8 or Windows-1252 text)")


def read_practices(path: Path | str, progress: Progress = _silent) -> list[PracticeRecord]:
    """Every row of an epraccur file, validated."""
    return parse_practices(read_text(path), source=Path(path).name, progress=progress)


def read_pcn_relationships(path: Path | str, progress: Progress = _silent) -> list[PcnRelationship]:
    """Every row of a PCN core partner CSV, validated."""
    return parse_pcn_relationships(read_text(path), source=Path(path).name, progress=progress)


def parse_practices(
    text: str, *, source: str = "epraccur.csv", progress: Progress = _silent
) -> list[PracticeRecord]:
    """epraccur.csv: no header, 27 quoted columns a row (see tests/data/ods/README.md)."""
    records: list[PracticeRecord] = []
    first_line: dict[str, int] = {}
    for line, row in _rows(text, source):
        if len(row) == 1 and not records:
            raise OdsFileError(f"{source} line {line}: is not a CSV file (no commas on the line)")
        if len(row) != EPRACCUR_COLUMNS:
            raise OdsFileError(
                f"{source} line {line}: expected {EPRACCUR_COLUMNS} columns, found {len(row)}"
            )
        _check_lengths(row, source, line)
        record = _practice(row, source, line)
        if record.code in first_line:
            raise OdsFileError(
                f"{source} line {line}: practice {record.code} already appears "
                f"on line {first_line[record.code]}"
            )
        first_line[record.code] = line
        records.append(record)
        if len(records) % PROGRESS_EVERY == 0:
            progress(f"{source}: {len(records):,} rows read")
    if not records:
        raise OdsFileError(f"{source}: is empty")
    return records


def parse_pcn_relationships(
    text: str, *, source: str = "pcn-core-partners.csv", progress: Progress = _silent
) -> list[PcnRelationship]:
    """The PCN core partner CSV: a header row, then one row per practice-to-PCN relationship."""
    rows = _rows(text, source)
    first = next(rows, None)
    if first is None:
        raise OdsFileError(f"{source}: is empty")
    header_line, header = first
    if len(header) == 1:
        raise OdsFileError(
            f"{source} line {header_line}: is not a CSV file (no commas on the line)"
        )
    columns = _pcn_columns(header, source, header_line)
    relationships: list[PcnRelationship] = []
    for line, row in rows:
        if len(row) != len(header):
            raise OdsFileError(
                f"{source} line {line}: expected {len(header)} columns like the header, "
                f"found {len(row)}"
            )
        _check_lengths(row, source, line)
        relationships.append(_relationship(row, columns, source, line))
        if len(relationships) % PROGRESS_EVERY == 0:
            progress(f"{source}: {len(relationships):,} rows read")
    if not relationships:
        raise OdsFileError(f"{source}: has a header but no relationships")
    return relationships


def normalise_status(value: str) -> PracticeStatus | None:
    """`A`/`ACTIVE`, `C`/`CLOSED`, `D`/`DORMANT`, `P`/`PROPOSED`, in any case; None otherwise."""
    return _STATUSES.get(collapse_whitespace(value).upper())


def parse_date(value: str) -> date | None:
    """`YYYYMMDD` (as ODS writes dates) or `YYYY-MM-DD` (spreadsheet exports); empty is None.

    Raises ValueError for anything else."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{8}", value):
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    raise ValueError(value)


def header_key(cell: str) -> str:
    """A header cell as it is matched: white space (line breaks too) collapsed, any case."""
    return collapse_whitespace(cell).casefold()


_PCN_HEADERS = {header_key(name): field for name, field in PCN_FILE_COLUMNS}


def _rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with the line they start on; csv errors become OdsFileError."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise OdsFileError(f"{source} line {reader.line_num}: is not valid CSV ({exc})") from None


def _practice(row: list[str], source: str, line: int) -> PracticeRecord:
    code = _code(row[0], "organisation code", source, line)
    name = row[1]
    if not name.strip():
        raise OdsFileError(f"{source} line {line}: practice {code} has no name")
    status = normalise_status(row[12])
    if status is None:
        raise OdsFileError(
            f"{source} line {line}: unknown status {row[12]!r} for {code} "
            "(expected A, C, D, P or ACTIVE, CLOSED, DORMANT, PROPOSED)"
        )
    postcode = collapse_whitespace(row[9]).upper()
    if len(postcode) > _POSTCODE_LENGTH:
        raise OdsFileError(f"{source} line {line}: postcode {postcode!r} for {code} is too long")
    setting = row[25].strip()
    if not setting.isdigit():
        raise OdsFileError(
            f"{source} line {line}: prescribing setting {setting!r} for {code} is not a number"
        )
    return PracticeRecord(
        code=code,
        name=name,
        address_lines=tuple(part for part in row[4:9] if part.strip()),
        postcode=postcode,
        open_date=_date(row[10], "open date", source, line),
        close_date=_date(row[11], "close date", source, line),
        status=status,
        prescribing_setting=int(setting),
        region=row[2].strip(),
        commissioner=row[14].strip(),
    )


def _pcn_columns(header: list[str], source: str, line: int) -> dict[str, int]:
    columns: dict[str, int] = {}
    seen: set[str] = set()
    for index, cell in enumerate(header):
        key = header_key(cell)
        if not key:
            continue  # spreadsheet exports can leave trailing empty header cells
        if key not in _PCN_HEADERS:
            raise OdsFileError(
                f"{source} line {line}: unknown header {collapse_whitespace(cell)!r}"
            )
        if key in seen:
            raise OdsFileError(
                f"{source} line {line}: header {collapse_whitespace(cell)!r} appears twice"
            )
        seen.add(key)
        field = _PCN_HEADERS[key]
        if field is not None:
            columns[field] = index
    missing = [label for field, label in _PCN_REQUIRED.items() if field not in columns]
    if missing:
        raise OdsFileError(f"{source} line {line}: missing header {', '.join(map(repr, missing))}")
    return columns


def _relationship(
    row: list[str], columns: dict[str, int], source: str, line: int
) -> PcnRelationship:
    def cell(field: str) -> str:
        index = columns.get(field)
        return "" if index is None else row[index]

    practice_code = _code(cell("practice_code"), "partner organisation code", source, line)
    pcn_code = _code(cell("pcn_code"), "PCN code", source, line)
    pcn_name = cell("pcn_name")
    if not pcn_name.strip():
        raise OdsFileError(f"{source} line {line}: PCN {pcn_code} has no name")
    return PcnRelationship(
        practice_code=practice_code,
        practice_name=cell("practice_name"),
        pcn_code=pcn_code,
        pcn_name=pcn_name,
        start_date=_date(cell("start_date"), "start date", source, line),
        end_date=_date(cell("end_date"), "end date", source, line),
    )


def _check_lengths(row: list[str], source: str, line: int) -> None:
    for column, cell in enumerate(row, 1):
        if len(cell) > _CELL_LENGTH:
            raise OdsFileError(
                f"{source} line {line}: column {column} is longer than {_CELL_LENGTH} characters"
            )


def _code(value: str, what: str, source: str, line: int) -> str:
    code = value.strip().upper()
    if not code:
        raise OdsFileError(f"{source} line {line}: {what} is missing")
    if not _CODE.fullmatch(code):
        raise OdsFileError(f"{source} line {line}: {what} {value.strip()!r} is not an ODS code")
    return code


def _date(value: str, what: str, source: str, line: int) -> date | None:
    try:
        return parse_date(value)
    except ValueError:
        raise OdsFileError(
            f"{source} line {line}: {what} {value.strip()!r} is not a date (YYYYMMDD)"
        ) from None
