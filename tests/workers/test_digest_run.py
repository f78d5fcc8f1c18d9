"""`commons digests run`: one email per person per period, through the configured transport,
matching the preview, with RFC 8058 headers; a second run sends nothing new."""

import pytest

from network.digests.models import Digest, DigestStatus
from tests.workers.conftest import read_outbox
from workers import digests


def _raw(settings):
    return [p.read_bytes() for p in sorted(settings.outbox_path.glob("*.eml"))]


@pytest.fixture
def world(mailing):
    return mailing.settings, mailing.client, mailing.as_


def test_a_run_sends_each_person_with_news_one_digest_and_a_second_run_none(world, net, session):
    settings, client, as_ = world
    made = client.post(
        "/api/v1/problems",
        json={"board_id": net.pcn1.id, "title": "Phones at 8am", "body": "Every **day**."},
        headers=as_(net.members["practice2"]),
    )
    assert made.status_code == 201
    reader = net.members["practice1"]
    preview_text = client.get(
        "/api/v1/me/digest/preview?format=text", headers=as_(reader)
    ).get_data(as_text=True)

    summary = digests.run(everyone=True)
    assert summary.failed == []
    mails = read_outbox(settings)
    to = sorted(m["To"] for m in mails)
    assert len(to) == len(set(to)) == summary.sent
    # Everyone who reads PCN One but did not post it; nobody of federation B.
    assert reader.email in to and net.members["practice4"].email not in to
    assert net.members["practice2"].email not in to  # their own post is not news to them
    mine = next(m for m in mails if m["To"] == reader.email)
    assert mine["Subject"] == "1 problem shared"
    assert mine["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        mine["List-Unsubscribe"].startswith("<http")
        and "/api/v1/unsubscribe/" in mine["List-Unsubscribe"]
    )
    assert mine["Auto-Submitted"] == "auto-generated" and mine["List-Id"]
    # As written on the wire: one URL in angle brackets, never encoded words.
    [raw] = [r for r in _raw(settings) if f"To: {reader.email}".encode() in r]
    assert b"\nList-Unsubscribe: <http" in raw
    assert b"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert mine["Message-ID"].startswith(f"<digest.{reader.id}.")
    text = mine.get_body(preferencelist=("plain",)).get_content()
    html = mine.get_body(preferencelist=("html",)).get_content()
    assert text == preview_text
    assert "Phones at 8am" in html and "<script" not in html
    rows = session.query(Digest).filter_by(person_id=reader.id).all()
    assert [r.status for r in rows] == [DigestStatus.sent]

    again = digests.run(everyone=True)
    assert again.sent == 0 and len(read_outbox(settings)) == len(mails)


def test_one_bad_address_never_stops_the_others(world, net, monkeypatch):
    _settings, client, as_ = world
    client.post(
        "/api/v1/problems",
        json={"board_id": net.fed_a.id, "title": "Winter pressures", "body": "All of us."},
        headers=as_(net.members["fed_a"]),
    )
    real = digests.mail.send

    def flaky(settings, message):
        if message["To"] == net.members["practice1"].email:
            raise OSError("550 no such mailbox")
        return real(settings, message)

    monkeypatch.setattr(digests.mail, "send", flaky)
    summary = digests.run(everyone=True)
    assert summary.failed == [str(net.members["practice1"].id)]
    assert summary.sent >= 5


def test_a_signal_brings_its_chart_inline_and_titles_mode_leaves_it_out(world, session):
    from network.digests.models import DigestContent, DigestPreference
    from network.people.models import Person
    from network.seed.demo import seed_demo
    from network.uow import UnitOfWork

    settings, _client, _as = world
    seed_demo(UnitOfWork(lambda: session))
    session.flush()
    amy = session.query(Person).filter_by(email="amy.fletcher@demo.example").one()
    lucy = session.query(Person).filter_by(email="lucy.dunn@demo.example").one()
    session.add(
        DigestPreference(
            person_id=lucy.id,
            frequency="weekly",
            weekday=0,
            hour=7,
            timezone="Europe/London",
            content=DigestContent.titles,
        )
    )
    session.flush()
    digests.run(everyone=True)
    mails = {m["To"]: m for m in read_outbox(settings)}
    mine = mails[amy.email]
    [png] = [p for p in mine.walk() if p.get_content_type() == "image/png"]
    cid = png["Content-ID"].strip("<>")
    html = (
        mine.get_body(preferencelist=("related", "html"))
        .get_body(preferencelist=("html",))
        .get_content()
    )
    assert f'src="cid:{cid}"' in html
    assert png.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    titles = mails[lucy.email]
    assert not [p for p in titles.walk() if p.get_content_type() == "image/png"]
    parts = [p.get_content() for p in titles.walk() if p.get_content_maintype() == "text"]
    assert len(parts) == 2 and "Discharge summaries" in parts[0]  # the titles are there
    assert not any("We asked the trust" in part for part in parts)
    full = [p.get_content() for p in mine.walk() if p.get_content_type() == "text/plain"]
    assert "We asked the trust" in full[0]  # what titles mode leaves out


def test_news_is_never_repeated_and_a_digest_shows_twenty_items_and_links_the_rest(
    world, net, session
):
    _settings, client, as_ = world
    for n in range(25):
        client.post(
            "/api/v1/problems",
            json={"board_id": net.pcn1.id, "title": f"Problem {n}", "body": "x"},
            headers=as_(net.members["practice2"]),
        )
    reader = net.members["practice1"]
    preview = client.get("/api/v1/me/digest/preview", headers=as_(reader)).get_json()
    assert sum(len(s["items"]) for s in preview["sections"]) == 20 and preview["more"] == 5
    text = client.get("/api/v1/me/digest/preview?format=text", headers=as_(reader))
    assert "And 5 more: http" in text.get_data(as_text=True)
    digests.run(everyone=True)
    after = client.get("/api/v1/me/digest/preview", headers=as_(reader)).get_json()
    assert after["worth_sending"] is False and after["sections"] == []
