"""Reading ODS files: epraccur.csv and the PCN core partner CSV (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from network.organisations.ods.names import display_name
from network.organisations.ods.parsing import (
    OdsFileError,
    PracticeStatus,
    header_key,
    normalise_status,
    parse_pcn_relationships,
    parse_practices,
    read_practices,
    read_text,
)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "ods" / "epraccur-sample.csv"

PCN_HEADER = [
    "Partner Organisation Code",
    "Partner Name",
    "Practice Parent Sub ICB Location Code",
    "Practice Parent Sub ICB Location Name",
    "PCN Code",
    "PCN Name",
    "PCN Parent Sub ICB Location Code",
    "PCN Parent Sub ICB Location Name",
    "Practice to PCN Relationship Start Date",
    "Practice to PCN Relationship End Date",
    "Practice Sub ICB and PCN Sub ICB Match?",
]


def epraccur_row(
    code: str = "A81001",
    name: str = "THE DENSHAM SURGERY",
    status: str = "A",
    setting: str = "4",
    close: str = "",
    columns: int = 27,
) -> str:
    cells = [""] * 27
    cells[0], cells[1] = code, name
    cells[4:10] = ["THE HEALTH CENTRE", "LAWSON STREET", "STOCKTON-ON-TEES", "", "", "TS18  1hu"]
    cells[10], cells[11], cells[12], cells[25] = "19740401", close, status, setting
    cells = (cells + [""] * columns)[:columns]
    return ",".join(f'"{c}"' for c in cells)


def pcn_csv(*rows: list[str], header: list[str] = PCN_HEADER) -> str:
    def line(cells: list[str]) -> str:
        return ",".join('"' + c.replace('"', '""') + '"' for c in cells)

    return "\r\n".join([line(header), *(line(r) for r in rows)]) + "\r\n"


def relationship(practice: str, pcn: str, start: str = "20190701", end: str = "") -> list[str]:
    return [
        practice,
        "A PRACTICE",
        "16C",
        "TEES",
        pcn,
        f"{pcn}  PCN",
        "16C",
        "TEES",
        start,
        end,
        "Y",
    ]


def test_reads_the_real_sample_with_closed_practices():
    records = read_practices(SAMPLE)

    assert len(records) == 60
    first = records[0]
    assert (first.code, first.name, first.postcode) == ("A81001", "THE DENSHAM SURGERY", "TS18 1HU")
    assert first.address_lines == (
        "THE HEALTH CENTRE",
        "LAWSON STREET",
        "STOCKTON-ON-TEES",
        "CLEVELAND",
    )
    assert first.status is PracticeStatus.active and first.is_gp_practice
    assert first.open_date == date(1974, 4, 1) and first.close_date is None
    closed = {r.code: r for r in records if r.status is PracticeStatus.closed}
    assert sorted(closed) == ["A81003", "A81008", "A81015", "A81033", "A81047", "A81069"]
    assert closed["A81003"].close_date == date(2017, 10, 31)


@pytest.mark.parametrize(
    ("spelled", "status"),
    [
        ("A", PracticeStatus.active),
        ("ACTIVE", PracticeStatus.active),
        ("Active", PracticeStatus.active),
        ("C", PracticeStatus.closed),
        ("CLOSED", PracticeStatus.closed),
        ("D", PracticeStatus.dormant),
        ("DORMANT", PracticeStatus.dormant),
        ("P", PracticeStatus.proposed),
        (" PROPOSED ", PracticeStatus.proposed),
    ],
)
def test_status_is_read_as_a_letter_or_spelled_out(spelled, status):
    assert normalise_status(spelled) is status
    (record,) = parse_practices(epraccur_row(status=spelled))
    assert record.status is status


def test_newer_export_with_spelled_out_status_reads_like_the_old_one():
    old = parse_practices(
        "\n".join([epraccur_row("A81001", status="A"), epraccur_row("A81003", status="C")])
    )
    new = parse_practices(
        "\n".join(
            [epraccur_row("A81001", status="ACTIVE"), epraccur_row("A81003", status="CLOSED")]
        )
    )
    assert old == new


def test_non_gp_prescribing_setting_is_read_but_not_a_gp_practice():
    (record,) = parse_practices(epraccur_row(setting="8"))
    assert record.prescribing_setting == 8
    assert not record.is_gp_practice


def test_pcn_header_is_matched_after_collapsing_line_breaks_and_spaces_in_any_case():
    messy = [
        "Partner\nOrganisation  Code",
        " Partner Name ",
        "Practice Parent\r\nSub ICB Location Code",
        "Practice Parent Sub ICB Location Name",
        "PCN CODE",
        "pcn name",
        "PCN Parent Sub ICB\tLocation Code",
        "PCN Parent Sub ICB Location Name",
        "Practice to PCN\nRelationship Start Date",
        "Practice to PCN\nRelationship  End Date",
        "Practice Sub ICB and PCN Sub ICB\nMatch?",
    ]
    text = pcn_csv(
        relationship("A81001", "U00001", end="20220331"),
        relationship("a81001 ", "U00002", start="2022-04-01"),
        header=messy,
    )

    ended, current = parse_pcn_relationships(text)

    assert (ended.practice_code, ended.pcn_code, ended.end_date) == (
        "A81001",
        "U00001",
        date(2022, 3, 31),
    )
    assert not ended.is_current
    assert (current.practice_code, current.pcn_code, current.pcn_name) == (
        "A81001",
        "U00002",
        "U00002  PCN",
    )
    assert current.start_date == date(2022, 4, 1)
    assert current.is_current


def test_header_key_collapses_white_space_and_case():
    assert header_key("  PCN\r\n  Code ") == "pcn code"


def test_pcn_file_needs_only_the_columns_the_import_uses():
    header = [
        "Partner Organisation Code",
        "PCN Code",
        "PCN Name",
        "Practice to PCN Relationship End Date",
    ]
    (row,) = parse_pcn_relationships(pcn_csv(["A81001", "U00001", "TEES PCN", ""], header=header))
    assert row.is_current and row.start_date is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "epraccur.csv: is empty"),
        ("\n  \n", "epraccur.csv: is empty"),
        (epraccur_row(columns=26), "epraccur.csv line 1: expected 27 columns, found 26"),
        (
            epraccur_row("A81001") + "\n" + epraccur_row("A81002", columns=28),
            "epraccur.csv line 2: expected 27 columns, found 28",
        ),
        (
            "just some text\nand more",
            "epraccur.csv line 1: is not a CSV file (no commas on the line)",
        ),
        ('"A81001"x,"B"', "epraccur.csv line 1: is not valid CSV"),
        (
            epraccur_row(status="X"),
            "epraccur.csv line 1: unknown status 'X' for A81001 "
            "(expected A, C, D, P or ACTIVE, CLOSED, DORMANT, PROPOSED)",
        ),
        (
            epraccur_row(close="2017-13-45"),
            "epraccur.csv line 1: close date '2017-13-45' is not a date (YYYYMMDD)",
        ),
        (epraccur_row(code=""), "epraccur.csv line 1: organisation code is missing"),
        (
            epraccur_row(code="A8 1001"),
            "epraccur.csv line 1: organisation code 'A8 1001' is not an ODS code",
        ),
        (epraccur_row(name=" "), "epraccur.csv line 1: practice A81001 has no name"),
        (
            epraccur_row(setting="four"),
            "epraccur.csv line 1: prescribing setting 'four' for A81001 is not a number",
        ),
        (
            epraccur_row() + "\n\n" + epraccur_row(),
            "epraccur.csv line 3: practice A81001 already appears on line 1",
        ),
        (
            epraccur_row(name="X" * 201),
            "epraccur.csv line 1: column 2 is longer than 200 characters",
        ),
    ],
)
def test_malformed_epraccur_is_refused_with_a_one_line_reason(text, message):
    with pytest.raises(OdsFileError) as raised:
        parse_practices(text)
    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message


def test_pcn_file_given_as_practices_is_refused_by_its_column_count():
    with pytest.raises(OdsFileError, match=r"line 1: expected 27 columns, found 11"):
        parse_practices(pcn_csv(relationship("A81001", "U00001")))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "pcns.csv: is empty"),
        (pcn_csv(), "pcns.csv: has a header but no relationships"),
        (
            pcn_csv(relationship("A81001", "U00001"), header=[*PCN_HEADER[:-1], "Practice Colour"]),
            "pcns.csv line 1: unknown header 'Practice Colour'",
        ),
        (
            pcn_csv(
                ["A81001", "U00001", "TEES PCN"],
                header=["Partner Organisation Code", "PCN Code", "PCN Name"],
            ),
            "pcns.csv line 1: missing header 'Practice to PCN Relationship End Date'",
        ),
        (
            pcn_csv(relationship("A81001", "U00001"), header=[*PCN_HEADER[:-1], "PCN  code"]),
            "pcns.csv line 1: header 'PCN code' appears twice",
        ),
        (
            pcn_csv(relationship("A81001", "U00001")[:-1]),
            "pcns.csv line 2: expected 11 columns like the header, found 10",
        ),
        (
            pcn_csv(relationship("A81001", "U00001", end="31/03/2022")),
            "pcns.csv line 2: end date '31/03/2022' is not a date (YYYYMMDD)",
        ),
        (pcn_csv(relationship("A81001", "")), "pcns.csv line 2: PCN code is missing"),
        (epraccur_row(), "pcns.csv line 1: unknown header 'A81001'"),
        ("no commas here\n", "pcns.csv line 1: is not a CSV file (no commas on the line)"),
    ],
)
def test_malformed_pcn_file_is_refused_with_a_one_line_reason(text, message):
    with pytest.raises(OdsFileError) as raised:
        parse_pcn_relationships(text, source="pcns.csv")
    assert raised.value.message == message


def test_line_numbers_count_the_line_breaks_inside_header_cells():
    header = [*PCN_HEADER[:9], "Practice to PCN\nRelationship\nEnd Date", PCN_HEADER[10]]
    text = pcn_csv(relationship("A81001", "U00001", start="bad"), header=header)
    with pytest.raises(OdsFileError, match=r"^pcns.csv line 4: start date 'bad'"):
        parse_pcn_relationships(text, source="pcns.csv")


def test_an_excel_workbook_is_not_a_csv_file(tmp_path):
    workbook = tmp_path / "ePCN.xlsx"
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))
    with pytest.raises(
        OdsFileError, match=r"^ePCN.xlsx: is not a CSV file \(it looks like an Excel"
    ):
        read_text(workbook)


def test_binary_data_is_not_a_csv_file(tmp_path):
    binary = tmp_path / "epraccur.csv"
    binary.write_bytes(b'"A81001",\x00\x01\x02')
    with pytest.raises(
        OdsFileError, match=r"^epraccur.csv: is not a CSV file \(it holds binary data\)"
    ):
        read_text(binary)


def test_windows_1252_and_byte_order_marks_are_read(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + epraccur_row().encode())
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(epraccur_row(name="CAF\xc9 SURGERY").encode("cp1252"))

    assert read_practices(bom)[0].code == "A81001"
    assert read_practices(legacy)[0].name == "CAF\u00c9 SURGERY"


def test_progress_is_reported_every_thousand_rows():
    text = "\n".join(epraccur_row(f"B{n:05d}") for n in range(2500))
    messages: list[str] = []
    parse_practices(text, progress=messages.append)
    assert messages == ["epraccur.csv: 1,000 rows read", "epraccur.csv: 2,000 rows read"]


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("THE  DENSHAM SURGERY ", "The Densham Surgery"),
        ("GREATER MIDDLESBROUGH PCN", "Greater Middlesbrough PCN"),
        ("ST JOHN'S MEDICAL CENTRE", "St John's Medical Centre"),
        ("MCKENZIE HOUSE SURGERY", "McKenzie House Surgery"),
        ("STOCKTON-ON-TEES", "Stockton-on-Tees"),
        ("BOROUGH ROAD & NUNTHORPE MEDICAL GROUP", "Borough Road & Nunthorpe Medical Group"),
        ("Already  Mixed case", "Already Mixed case"),
    ],
)
def test_display_names_are_tidied_and_capitals_put_in_title_case(source, shown):
    assert display_name(source) == shown
