"""Importing practices and PCNs from ODS files (`commons import-ods`), against the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from api.cli import main
from network.organisations.models import Organisation, OrganisationKind
from network.organisations.ods import ImportSummary, OdsFileError, import_ods, importing
from network.people.models import Membership
from network.uow import UnitOfWork
from tests import factories

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "ods" / "epraccur-sample.csv"
SAMPLE_CLOSED = {"A81003", "A81008", "A81015", "A81033", "A81047", "A81069"}
FEDERATION = "Tees Valley"

PCN_HEADER = [
    "Partner\nOrganisation Code",
    "Partner  Name",
    "Practice Parent Sub ICB Location Code",
    "Practice Parent Sub ICB Location Name",
    "PCN Code",
    "PCN Name ",
    "PCN Parent Sub ICB Location Code",
    "PCN Parent Sub ICB Location Name",
    "Practice to PCN Relationship\nStart Date",
    "Practice to PCN Relationship\nEnd Date",
    "Practice Sub ICB and PCN Sub ICB Match?",
]

# U00001 and U00002 in Tees. A81004 moved from U00001 to U00002 in 2022 (the ended relationship
# is history); A81003 is closed in epraccur; Z99999 is not in epraccur; A81006 only has an
# ended relationship.
PCN_ROWS = [
    ("A81001", "U00001", "NORTH  TEES PCN", "20190701", ""),
    ("A81002", "U00001", "NORTH  TEES PCN", "20190701", ""),
    ("A81004", "U00001", "NORTH  TEES PCN", "20190701", "20220331"),
    ("A81004", "U00002", "SOUTH TEES PCN", "20220401", ""),
    ("A81005", "U00002", "SOUTH TEES PCN", "20190701", ""),
    ("A81003", "U00001", "NORTH  TEES PCN", "20190701", ""),
    ("Z99999", "U00002", "SOUTH TEES PCN", "20190701", ""),
    ("A81006", "U00001", "NORTH  TEES PCN", "20190701", "20200331"),
]


def write_pcn_file(path: Path, rows=PCN_ROWS) -> Path:
    def line(cells) -> str:
        return ",".join('"' + c + '"' for c in cells)

    body = [
        line([practice, "A PRACTICE", "16C", "TEES", pcn, name, "16C", "TEES", start, end, "Y"])
        for practice, pcn, name, start, end in rows
    ]
    path.write_text("\r\n".join([line(PCN_HEADER), *body]) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture
def pcn_file(tmp_path) -> Path:
    return write_pcn_file(tmp_path / "pcn-core-partners.csv")


@pytest.fixture
def run(session_factory, session):
    """`run(**options)` imports in its own unit of work and commits, as the CLI does."""

    def run_import(**options) -> ImportSummary:
        options.setdefault("federation_name", FEDERATION)
        options.setdefault("practices_file", SAMPLE)
        with UnitOfWork(session_factory) as uow:
            summary = import_ods(uow, **options)
            uow.commit()
        session.expire_all()
        return summary

    return run_import


def by_code(session) -> dict[str, Organisation]:
    session.expire_all()
    rows = session.scalars(select(Organisation).where(Organisation.ods_code.is_not(None)))
    return {o.ods_code: o for o in rows}


def organisation_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Organisation))


def federation_named(session, name: str) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation).where(
                Organisation.kind == OrganisationKind.federation, Organisation.name == name
            )
        )
    )


def test_sample_alone_puts_every_active_gp_practice_under_the_federation(run, session):
    summary = run()

    (federation,) = federation_named(session, FEDERATION)
    orgs = by_code(session)
    assert summary.federation_created and summary.federation_id == federation.id
    assert (summary.created, summary.updated, summary.unchanged) == (54, 0, 0)
    assert {(s.code, s.reason) for s in summary.skipped} == {(c, "closed") for c in SAMPLE_CLOSED}
    assert len(orgs) == 54 and not SAMPLE_CLOSED & set(orgs)
    assert all(o.kind is OrganisationKind.practice for o in orgs.values())
    assert all(o.parent_id == federation.id and o.active for o in orgs.values())
    densham = orgs["A81001"]
    assert densham.name == "The Densham Surgery"
    assert densham.source_name == "THE DENSHAM SURGERY"
    assert densham.address == "The Health Centre, Lawson Street, Stockton-on-Tees, Cleveland"
    assert densham.postcode == "TS18 1HU"


def test_only_active_gp_practices_are_created_and_the_rest_skipped_with_a_reason(run, tmp_path):
    rows = SAMPLE.read_text().splitlines()
    changes = {"A81002": ('"4",""', '"8",""'), "A81004": ('"A","B"', '"D","B"')}
    changes["A81005"] = ('"A","B"', '"PROPOSED","B"')
    edited = []
    for row in rows:
        code = row[1:7]
        if code in changes:
            row = row.replace(*changes[code])
        edited.append(row)
    practices = tmp_path / "epraccur.csv"
    practices.write_text("\n".join(edited) + "\n")

    summary = run(practices_file=practices)

    reasons = {s.code: s.reason for s in summary.skipped}
    assert reasons["A81002"] == "not a GP practice (prescribing setting 8)"
    assert reasons["A81004"] == "dormant"
    assert reasons["A81005"] == "proposed (not open yet)"
    assert summary.practices.created == 54 - 3
    assert summary.skipped_by_reason()["not a GP practice"] == ["A81002"]


def test_with_a_pcn_file_the_network_is_the_practices_in_current_relationships(
    run, session, pcn_file
):
    summary = run(pcns_file=pcn_file)

    (federation,) = federation_named(session, FEDERATION)
    orgs = by_code(session)
    north, south = orgs["U00001"], orgs["U00002"]
    assert {code for code, o in orgs.items() if o.kind is OrganisationKind.practice} == {
        "A81001",
        "A81002",
        "A81004",
        "A81005",
    }
    assert north.kind is OrganisationKind.pcn and north.parent_id == federation.id
    assert (north.name, north.source_name) == ("North Tees PCN", "NORTH  TEES PCN")
    assert orgs["A81001"].parent_id == north.id and orgs["A81002"].parent_id == north.id
    assert orgs["A81004"].parent_id == south.id  # its ended relationship with U00001 is history
    assert orgs["A81005"].parent_id == south.id
    assert (summary.practices.created, summary.pcns.created, summary.updated) == (4, 2, 0)
    reasons = {s.code: s.reason for s in summary.skipped}
    assert reasons["A81003"] == "closed"
    assert reasons["Z99999"] == "in the PCN file but not in epraccur"
    assert reasons["A81006"] == "no current PCN relationship"
    assert len(reasons) == len(summary.skipped) == 60 - 4 + 1


def test_second_run_with_the_same_files_changes_nothing(run, session, pcn_file):
    first = run(pcns_file=pcn_file)
    before = {
        code: (o.name, o.parent_id, o.active, o.updated_at) for code, o in by_code(session).items()
    }

    second = run(pcns_file=pcn_file)

    after = {
        code: (o.name, o.parent_id, o.active, o.updated_at) for code, o in by_code(session).items()
    }
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created == 6
    assert not second.changed and not second.federation_created
    assert second.skipped == first.skipped
    assert after == before


def test_sample_alone_twice_changes_nothing(run):
    run()
    second = run()
    assert (second.created, second.updated, second.unchanged) == (0, 0, 54)


def test_practice_that_moved_pcn_is_moved(run, session, tmp_path):
    before = [row for row in PCN_ROWS if row[0] != "A81004"] + [
        ("A81004", "U00001", "NORTH  TEES PCN", "20190701", "")
    ]
    run(pcns_file=write_pcn_file(tmp_path / "before.csv", before))
    assert by_code(session)["A81004"].parent_id == by_code(session)["U00001"].id

    summary = run(pcns_file=write_pcn_file(tmp_path / "after.csv"))

    orgs = by_code(session)
    assert orgs["A81004"].parent_id == orgs["U00002"].id
    assert (summary.created, summary.updated, summary.practices.unchanged) == (0, 1, 3)


def test_practices_imported_without_pcns_move_into_their_pcns_later(run, session, pcn_file):
    run()
    summary = run(pcns_file=pcn_file)

    orgs = by_code(session)
    assert orgs["A81001"].parent_id == orgs["U00001"].id
    assert (summary.practices.created, summary.practices.updated) == (0, 4)
    assert summary.pcns.created == 2
    # Practices without a current relationship stay where they were; none is deleted.
    assert len([o for o in orgs.values() if o.kind is OrganisationKind.practice]) == 54


def test_closed_practice_already_present_is_marked_inactive_and_keeps_its_content(run, session):
    federation = factories.organisation(session, "federation", name=FEDERATION)
    pcn = factories.organisation(session, "pcn", federation, name="Hartlepool PCN")
    victoria = factories.organisation(
        session, "practice", pcn, name="Victoria Medical Practice", ods_code="A81003"
    )
    member = factories.person(session, member_of=victoria)
    session.commit()

    summary = run()

    orgs = by_code(session)
    assert orgs["A81003"].id == victoria.id
    assert orgs["A81003"].active is False
    assert orgs["A81003"].parent_id == pcn.id
    assert session.get(Membership, (member.id, victoria.id)) is not None
    assert summary.practices.updated == 1
    assert "A81003" not in {s.code for s in summary.skipped}
    assert run().practices.updated == 0


def test_existing_practice_is_matched_by_ods_code_and_a_local_rename_survives(run, session):
    run()
    densham = by_code(session)["A81001"]
    densham.name = "Densham Surgery (Stockton)"
    session.commit()

    summary = run()

    assert by_code(session)["A81001"].name == "Densham Surgery (Stockton)"
    assert summary.updated == 0


def test_practice_of_another_federation_is_left_alone(run, session):
    other = factories.organisation(session, "federation", name="Durham Dales")
    theirs = factories.organisation(
        session, "practice", other, name="Densham (Durham)", ods_code="A81001"
    )
    session.commit()

    summary = run()

    assert by_code(session)["A81001"].parent_id == other.id
    assert by_code(session)["A81001"].name == theirs.name
    assert {
        "code": "A81001",
        "reason": "already in federation 'Durham Dales'",
    } in summary.as_dict()["skipped"]


def test_federation_of_that_name_is_created_when_there_is_none(run, session):
    assert federation_named(session, "South Tees") == []
    summary = run(federation_name="South  Tees")
    (federation,) = federation_named(session, "South Tees")
    assert summary.federation_created and summary.federation_id == federation.id


def test_existing_federation_is_reused_whatever_the_case_and_spacing(run, session):
    existing = factories.organisation(session, "federation", name=FEDERATION)
    session.commit()

    summary = run(federation_name="  tees   VALLEY ")

    assert not summary.federation_created
    assert summary.federation_id == existing.id
    assert federation_named(session, FEDERATION) == [existing]
    assert by_code(session)["A81001"].parent_id == existing.id


@pytest.mark.parametrize(
    "bad_pcns",
    [
        "PCN Code,Colour\r\nU00001,red\r\n",  # unknown header
        "",  # empty
    ],
)
def test_bad_file_changes_nothing(run, session, tmp_path, bad_pcns):
    run()
    before = organisation_count(session)
    bad = tmp_path / "bad.csv"
    bad.write_text(bad_pcns)

    with pytest.raises(OdsFileError):
        run(pcns_file=bad, federation_name="Another Federation")
    with pytest.raises(OdsFileError):
        run(practices_file=bad)

    assert organisation_count(session) == before
    assert federation_named(session, "Another Federation") == []


def cli(app, *args: str):
    return app.test_cli_runner().invoke(main, ["import-ods", *args])


def test_cli_prints_the_summary_as_json(app, session, pcn_file):
    result = cli(
        app,
        "--practices",
        str(SAMPLE),
        "--pcns",
        str(pcn_file),
        "--federation",
        FEDERATION,
        "--json",
    )

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["created"], body["updated"], body["unchanged"]) == (6, 0, 0)
    assert {"code": "Z99999", "reason": "in the PCN file but not in epraccur"} in body["skipped"]
    assert all(set(s) == {"code", "reason"} for s in body["skipped"])
    assert body["federation"]["created"] is True
    assert len(by_code(session)) == 6


def test_cli_says_so_when_nothing_changed(app):
    first = cli(app, "--practices", str(SAMPLE), "--federation", FEDERATION)
    second = cli(app, "--practices", str(SAMPLE), "--federation", FEDERATION)

    assert first.exit_code == 0 and second.exit_code == 0
    assert "Done: 54 created, 0 updated, 0 unchanged, 6 skipped." in first.stdout
    assert "closed (6): A81003, A81008" in first.stdout
    assert "Nothing changed" in second.stdout


def test_cli_refuses_a_bad_file_with_one_line_and_stores_nothing(app, session, tmp_path):
    bad = tmp_path / "epraccur.csv"
    bad.write_text('"A81001","THE DENSHAM SURGERY","Y63"\n')
    before = organisation_count(session)

    result = cli(app, "--practices", str(bad), "--federation", FEDERATION)

    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        "Error: epraccur.csv line 1: expected 27 columns, found 3"
    ]
    assert result.stdout == ""
    assert organisation_count(session) == before


def test_cli_failure_half_way_stores_nothing(app, session, monkeypatch):
    before = organisation_count(session)
    apply = importing._Import._apply
    applied: list[str] = []

    def failing_apply(self, placement):
        if len(applied) == 20:
            raise OperationalError("INSERT", {}, Exception("disk full"))
        applied.append(placement.record.code)
        apply(self, placement)

    monkeypatch.setattr(importing._Import, "_apply", failing_apply)
    result = cli(app, "--practices", str(SAMPLE), "--federation", FEDERATION)

    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("Error: import failed:")
    assert organisation_count(session) == before
    assert federation_named(session, FEDERATION) == []


def test_cli_shows_progress_on_stderr_for_long_files(app, session, tmp_path):
    template = SAMPLE.read_text().splitlines()[0]
    rows = [template.replace("A81001", f"B{n:05d}") for n in range(2100)]
    long_file = tmp_path / "epraccur.csv"
    long_file.write_text("\n".join(rows) + "\n")

    result = cli(app, "--practices", str(long_file), "--federation", FEDERATION, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 2100
    assert "epraccur.csv: 2,000 rows read" in result.stderr
    assert "2,000 of 2,100 practices checked" in result.stderr


def test_import_reads_the_tree_in_one_query_and_writes_in_bulk(run, pcn_file, count_statements):
    with count_statements() as first:
        summary = run(pcns_file=pcn_file)
    with count_statements() as second:
        run(pcns_file=pcn_file)

    selects = [s for s in first.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    # The federation, the PCNs (one statement each where the backend cannot batch an insert
    # that reads ids back: SQLite), then every new practice in one bulk insert.
    assert first.count <= 2 + summary.pcns.created + 1
    assert second.count == 1


def test_cli_refuses_a_missing_file_with_one_line(app, tmp_path):
    result = cli(app, "--practices", str(tmp_path / "nope.csv"), "--federation", FEDERATION)

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'nope.csv'}: cannot be read (No such file or directory)"
    ]
