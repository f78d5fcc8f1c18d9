"""Measures (API.md, "Joint workstreams"): defined by the managers, points posted by the practices
taking part (one per practice and period, replaced when posted again; JSON or CSV), the network's
series combined by the measure's aggregate, SPC charts and the summary per practice."""

from __future__ import annotations

import struct
from datetime import date, datetime, timedelta

import pytest

BASE = "/api/v1/workstreams"
MONDAY = date(2026, 6, 1)


def weeks(n: int) -> list[str]:
    return [(MONDAY + timedelta(weeks=k)).isoformat() for k in range(n)]


@pytest.fixture
def workstream(client, auth, net):
    """PCN 1's workstream; practices 1 and 2 take part (practice 3, of PCN 2, cannot)."""
    manager = auth(net.admins["pcn1"])
    body = {"organisation_id": net.pcn1.id, "title": "Workflow", "purpose": "Letters."}
    created = client.post(BASE, json=body, headers=manager).get_json()
    for practice in (net.practice1, net.practice2):
        client.put(f"{BASE}/{created['id']}/practices/{practice.id}", headers=manager)
    return created


@pytest.fixture
def measure(client, auth, net, workstream):
    def _define(**fields):
        body = {"name": "Letters per GP per day", "unit": "letters", "better": "down"} | fields
        response = client.post(
            f"{BASE}/{workstream['id']}/measures", json=body, headers=auth(net.admins["pcn1"])
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _define


def _url(measure, rest=""):
    return f"{BASE}/{measure['workstream_id']}/measures/{measure['id']}{rest}"


def _post(client, headers, measure, body=None, **kwargs):
    return client.post(_url(measure, "/points"), json=body, headers=headers, **kwargs)


def test_managers_define_measures_and_everyone_who_reads_sees_them(
    client, auth, net, workstream, measure
):
    defined = measure(target=20, rebase_periods=["2026-09-07"], fix_after=12)
    assert defined["aggregate"] == "mean" and defined["rebase_periods"] == ["2026-09-07"]
    url = f"{BASE}/{workstream['id']}/measures"
    listed = client.get(url, headers=auth(net.members["practice2"])).get_json()["items"]
    assert [m["id"] for m in listed] == [defined["id"]]
    member = client.post(
        url,
        json={"name": "X", "unit": "x", "better": "up"},
        headers=auth(net.members["practice1"]),
    )
    assert member.status_code == 403
    too_soon = client.post(
        url,
        json={"name": "X", "unit": "x", "better": "up", "fix_after": 5},
        headers=auth(net.admins["pcn1"]),
    )
    assert too_soon.status_code == 422 and "fix_after" in str(too_soon.get_json())
    stranger = client.get(url, headers=auth(net.members["practice4"]))
    assert stranger.status_code == 404
    changed = client.patch(
        _url(defined), json={"target": 18.5}, headers=auth(net.admins["pcn1"])
    ).get_json()
    assert changed["target"] == 18.5


def test_points_one_many_and_csv_and_posting_again_replaces(client, auth, net, measure):
    m = measure()
    member = auth(net.members["practice1"])
    one = _post(client, member, m, {"period": "2026-06-01", "value": 40})
    assert one.status_code == 200 and one.get_json() == {"posted": 1, "signals": []}
    many = _post(
        client,
        member,
        m,
        {"points": [{"period": d, "value": 38} for d in weeks(3)[1:]]},
    )
    assert many.get_json() == {"posted": 2, "signals": []}
    manager = auth(net.admins["pcn1"])
    csv = "period,value,practice_ods_code\n2026-06-01,30,P10002\n2026-06-08,31,p10002\n"
    posted = client.post(
        _url(m, "/points"), data=csv, headers=manager | {"Content-Type": "text/csv"}
    )
    assert posted.status_code == 200 and posted.get_json() == {"posted": 2, "signals": []}
    again = _post(client, member, m, {"period": "2026-06-01", "value": 44})
    assert again.status_code == 200
    practice1 = client.get(
        _url(m, f"/spc?practice_id={net.practice1.id}"), headers=member
    ).get_json()
    assert [(p["period"], p["value"]) for p in practice1["points"]] == [
        ("2026-06-01", 44.0),
        ("2026-06-08", 38.0),
        ("2026-06-15", 38.0),
    ]
    network = client.get(_url(m, "/spc"), headers=member).get_json()
    # A mean of the practices that have a value: week 3 is practice 1's alone, not (38 + 0) / 2.
    assert [(p["value"], p["practices"]) for p in network["points"]] == [
        (37.0, 2),
        (34.5, 2),
        (38.0, 1),
    ]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"period": "2026-06-01"}, 422, "value"),
        ({"period": "2026-06-01", "value": "NaN"}, 422, "value"),
        ({"period": "1999-06-01", "value": 1}, 422, "period"),
        ({"period": "2026-06-01", "value": 1, "denominator": 4}, 422, "denominator"),
        ({"points": []}, 422, "points"),
        ({"points": [{"period": "2026-06-01", "value": 1}], "value": 2}, 422, "points"),
        ({"period": "2026-06-01", "value": 1, "practice_id": "P3"}, 403, None),
        ({"period": "2026-06-01", "value": 1, "practice_id": "P2"}, 403, None),
        ({"period": "2026-06-01", "value": 1, "colour": "red"}, 422, "colour"),
    ],
)
def test_bad_points_are_refused_and_nothing_is_stored(
    client, auth, net, measure, body, status, field
):
    m = measure()
    ids = {"P2": net.practice2.id, "P3": net.practice3.id}
    if body.get("practice_id") in ids:
        body = body | {"practice_id": ids[body["practice_id"]]}
    member = auth(net.members["practice1"])
    response = _post(client, member, m, body)
    assert response.status_code == status, response.get_json()
    if field:
        assert field in str(response.get_json())
    assert client.get(_url(m, "/spc"), headers=member).get_json()["points"] == []


def test_one_bad_point_refuses_the_lot(client, auth, net, measure):
    m = measure()
    manager = auth(net.admins["pcn1"])
    points = [{"period": d, "value": 5, "practice_id": net.practice1.id} for d in weeks(4)]
    points[3]["practice_id"] = net.practice3.id  # PCN 2's: never takes part
    response = _post(client, manager, m, {"points": points})
    assert response.status_code == 422 and "points[3].practice_id" in response.get_json()["message"]
    bad_csv = client.post(
        _url(m, "/points"),
        data="2026-06-01,5,P10001\nyesterday,6,P10001\n",
        headers=manager | {"Content-Type": "text/csv"},
    )
    assert bad_csv.status_code == 422 and "line 2" in bad_csv.get_json()["message"]
    assert client.get(_url(m, "/spc"), headers=manager).get_json()["points"] == []


def test_a_ratio_is_the_sum_of_numerators_over_the_sum_of_denominators(client, auth, net, measure):
    m = measure(name="Letters coded within 48 h", unit="%", better="up", aggregate="ratio")
    manager = auth(net.admins["pcn1"])
    points = [
        {"practice_id": net.practice1.id, "period": "2026-06-01", "value": 9, "denominator": 10},
        {"practice_id": net.practice2.id, "period": "2026-06-01", "value": 10, "denominator": 90},
    ]
    assert _post(client, manager, m, {"points": points}).status_code == 200
    network = client.get(_url(m, "/spc"), headers=manager).get_json()
    # 19 of 100 letters: 19 %, not the mean of 90 % and 11.1 %.
    assert network["points"][0]["value"] == pytest.approx(19.0)
    missing = _post(
        client, manager, m, {"practice_id": net.practice1.id, "period": "2026-06-08", "value": 3}
    )
    assert missing.status_code == 422 and "denominator" in missing.get_json()["message"]


def test_the_spc_chart_finds_a_shift_after_a_rebase_and_says_so(client, auth, net, measure):
    m = measure(target=30, rebase_periods=["2026-09-07"])
    member = auth(net.members["practice1"])
    before = [40, 42, 39, 41, 40, 43, 38, 41, 40, 42, 39, 41, 40, 42]  # 14 weeks
    after = [30, 29, 31, 28, 30, 29, 30, 31, 28, 29, 30, 29]  # 12 weeks from 7 September
    periods = weeks(len(before) + len(after))
    points = [{"period": d, "value": v} for d, v in zip(periods, before + after, strict=True)]
    assert _post(client, member, m, {"points": points}).status_code == 200
    spc = client.get(_url(m, f"/spc?practice_id={net.practice1.id}"), headers=member).get_json()
    assert [s["from"] for s in spc["segments"]] == ["2026-06-01", "2026-09-07"]
    assert spc["segments"][0]["mean"] == pytest.approx(sum(before) / len(before))
    assert spc["limits"] is True and spc["mean"] == pytest.approx(sum(after) / len(after))
    assert {p["segment"] for p in spc["points"][:14]} == {0}
    # Limits of the new segment come from its own points: mR̄ and ± 2.66 mR̄.
    ranges = [abs(a - b) for a, b in zip(after[1:], after, strict=False)]
    mr_mean = sum(ranges) / len(ranges)
    assert spc["ucl"] == pytest.approx(spc["mean"] + 2.66 * mr_mean)
    assert spc["variation"] == "common_cause"
    assert spc["assurance"] == "inconsistent"  # the target is between the limits


def test_fewer_than_twelve_points_is_a_run_chart_without_limits(client, auth, net, measure):
    m = measure()
    member = auth(net.members["practice1"])
    points = [{"period": d, "value": 10 + k} for k, d in enumerate(weeks(8))]
    _post(client, member, m, {"points": points})
    chart = client.get(_url(m, "/spc"), headers=member).get_json()
    assert chart["limits"] is False and chart["ucl"] is None and chart["assurance"] is None
    # Eight weeks each higher than the last: a trend, which a run chart still shows. Fewer
    # letters are better, so it is a concern.
    assert all("trend" in p["signals"] for p in chart["points"])
    assert chart["variation"] == "concern_high"


def test_the_summary_is_the_network_then_practices_by_name(
    client, auth, net, measure, count_statements
):
    m = measure()
    manager = auth(net.admins["pcn1"])
    points = [
        {"practice_id": practice.id, "period": d, "value": value}
        for practice, value in ((net.practice2, 20), (net.practice1, 30))
        for d in weeks(3)
    ]
    _post(client, manager, m, {"points": points})
    client.get(_url(m, "/summary"), headers=manager)
    with count_statements() as few:
        rows = client.get(_url(m, "/summary"), headers=manager).get_json()["items"]
    assert [(r["practice"]["name"], r["network"]) for r in rows] == [
        ("PCN One", True),
        ("Practice One", False),
        ("Practice Two", False),
    ]
    assert rows[0]["latest"] == {"period": weeks(3)[-1], "value": 25.0}
    assert rows[1]["latest"]["value"] == 30.0 and rows[2]["latest"]["value"] == 20.0
    more = [{"practice_id": net.practice1.id, "period": d, "value": 31} for d in weeks(20)]
    _post(client, manager, m, {"points": more})
    with count_statements() as many:
        client.get(_url(m, "/summary"), headers=manager)
    assert many.count == few.count


def test_charts_as_svg_and_png(client, auth, net, measure):
    m = measure(target=35)
    member = auth(net.members["practice1"])
    points = [{"period": d, "value": 40 - (k > 12) * 8 + k % 3} for k, d in enumerate(weeks(26))]
    _post(client, member, m, {"points": points})
    svg = client.get(_url(m, "/spc.svg"), headers=member)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and b"Letters per GP per day" in svg.data
    png = client.get(_url(m, f"/spc.png?practice_id={net.practice1.id}"), headers=member)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.data[16:24])
    assert (width, height) == (1200, 680)  # 600 px wide at twice the density
    stranger = client.get(_url(m, "/spc.png"), headers=auth(net.members["practice4"]))
    assert stranger.status_code == 404


def _points(practice_id, values, start=0):
    return {
        "points": [
            {"practice_id": practice_id, "period": period, "value": value}
            for period, value in zip(weeks(start + len(values))[start:], values, strict=True)
        ]
    }


def _signals_in_feed(client, headers):
    items = client.get("/api/v1/activity?limit=100", headers=headers).get_json()["items"]
    return [item["summary"] for item in items if item["verb"] == "measure_signal"]


def test_a_point_that_completes_a_signal_is_news_once(client, auth, net, measure):
    defined = measure()  # better: down
    member = auth(net.members["practice1"])
    first = _post(client, member, defined, _points(net.practice1.id, [20, 19, 18, 17, 16, 15]))
    assert first.get_json()["signals"] == []  # six falling: one short of a trend
    seventh = _post(client, member, defined, _points(net.practice1.id, [14], start=6))
    signals = seventh.get_json()["signals"]
    practice = {"id": net.practice1.id, "name": net.practice1.name}
    assert signals == [
        {
            "practice": None,
            "period": weeks(7)[6],
            "variation": "improvement_low",
            "rules": ["trend"],
        },
        {
            "practice": practice,
            "period": weeks(7)[6],
            "variation": "improvement_low",
            "rules": ["trend"],
        },
    ]
    # The eighth point of the trend, and the seventh posted again, are not news again.
    assert (
        _post(client, member, defined, _points(net.practice1.id, [13], start=7)).get_json()[
            "signals"
        ]
        == []
    )
    assert (
        _post(client, member, defined, _points(net.practice1.id, [14], start=6)).get_json()[
            "signals"
        ]
        == []
    )
    # Everyone who reads the workstream reads every practice's series, and so its signals.
    feed = _signals_in_feed(client, auth(net.members["practice2"]))
    assert feed == [
        "“Letters per GP per day” shows special-cause improvement (low) for “Practice One” in "
        "“Workflow”: 7 rising or falling",
        "“Letters per GP per day” shows special-cause improvement (low) for the network in "
        "“Workflow”: 7 rising or falling",
    ]
    assert _signals_in_feed(client, auth(net.members["practice4"])) == []


def test_a_week_only_some_practices_have_posted_is_no_signal_of_the_network(
    client, auth, net, measure
):
    defined = measure(aggregate="sum")
    manager = auth(net.admins["pcn1"])
    steady = [10, 11, 10, 12, 10, 11, 10, 12, 11, 10, 11, 12]
    for practice in (net.practice1, net.practice2):
        assert _post(client, manager, defined, _points(practice.id, steady)).status_code == 200
    # Practice 1 posts week 13 first: the network's sum for it is half of what it will be.
    early = _post(client, manager, defined, _points(net.practice1.id, [11], start=12))
    assert early.get_json()["signals"] == []
    spc = client.get(_url(defined, "/spc"), headers=manager).get_json()
    assert spc["points"][-1]["signals"] == ["astronomical"]  # what would have been announced
    settled = _post(client, manager, defined, _points(net.practice2.id, [11], start=12))
    assert settled.get_json()["signals"] == []
    assert client.get(_url(defined, "/spc"), headers=manager).get_json()["variation"] == (
        "common_cause"
    )


def test_a_period_that_has_not_begun_is_refused(client, auth, net, measure, session):
    from network.measures.models import MeasurePoint
    from network.text import LONDON

    defined = measure()
    tomorrow = (datetime.now(LONDON).date() + timedelta(days=1)).isoformat()
    today = datetime.now(LONDON).date().isoformat()
    member = auth(net.members["practice1"])
    body = {"points": [{"period": today, "value": 3}, {"period": tomorrow, "value": 4}]}
    refused = _post(client, member, defined, body)
    assert refused.status_code == 422
    assert f"points[1].period: {tomorrow} has not begun yet." in refused.get_json()["message"]
    assert session.query(MeasurePoint).filter_by(measure_id=defined["id"]).count() == 0
    assert _post(client, member, defined, {"period": today, "value": 3}).status_code == 200
