"""Digests from the reader's side (API.md, "Activity and digests"): the preview is what would be
sent now; follows and mutes; the one-click unsubscribe of RFC 8058."""

from __future__ import annotations

import re

import pytest

from network.digests import runs
from network.digests.models import DigestPreference, Frequency
from network.people.models import Membership
from tests import factories

PREVIEW = "/api/v1/me/digest/preview"


def _preview(client, auth, person, fmt="json"):
    response = client.get(f"{PREVIEW}?format={fmt}", headers=auth(person))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json() if fmt == "json" else response.get_data(as_text=True)


def _lines(preview):
    return [(s["key"], i["line"]) for s in preview["sections"] for i in s["items"]]


def test_the_preview_holds_news_of_others_on_boards_one_reads(client, auth, net, post):
    post(net.members["practice2"], net.pcn1, title="Phones down at 8am", body="**Every** day.")
    post(net.members["practice2"], net.practice2, title="Our private backlog")
    post(net.members["practice1"], net.pcn1, title="My own post")
    post(net.members["practice2"], net.pcn1, title="Who wrote this", anonymity="person")
    reader = net.members["practice1"]
    preview = _preview(client, auth, reader)
    lines = _lines(preview)
    assert ("problems", "“Phones down at 8am”") in lines
    assert ("problems", "“Who wrote this”") in lines
    text = str(preview)
    assert "Our private backlog" not in text  # another practice's board
    assert "My own post" not in text  # what they did themselves
    assert "Member of Practice Two" not in str(
        [i for s in preview["sections"] for i in s["items"] if "Who wrote" in i["line"]]
    )
    assert preview["worth_sending"] is True
    assert preview["subject"].startswith("2 problems shared")
    assert all(i["link"].startswith("http") for s in preview["sections"] for i in s["items"])


def test_followed_problems_bring_their_comments_and_titles_mode_drops_what_was_written(
    client, auth, net, post
):
    reader = net.members["practice1"]
    problem = post(reader, net.pcn1, title="Letters by fax")
    client.post(
        f"/api/v1/problems/{problem['id']}/comments",
        json={"body": "We email the ward instead"},
        headers=auth(net.members["practice2"]),
    )
    full = _preview(client, auth, reader)
    items = [i for s in full["sections"] if s["key"] == "following" for i in s["items"]]
    assert [i["excerpt"] for i in items] == ["We email the ward instead"]
    preference = client.get("/api/v1/me/digest", headers=auth(reader)).get_json()
    client.put("/api/v1/me/digest", json=preference | {"content": "titles"}, headers=auth(reader))
    titles = _preview(client, auth, reader)
    assert "We email the ward" not in str(titles)
    assert "We email the ward" not in _preview(client, auth, reader, "html")
    assert "We email the ward" not in _preview(client, auth, reader, "text")
    assert "commented on “Letters by fax”" in _preview(client, auth, reader, "text")


def test_a_muted_thread_never_appears_and_follows_need_reading(client, auth, net, post):
    reader = net.members["practice1"]
    problem = post(net.members["practice2"], net.pcn1, title="Noisy thread")
    url = f"/api/v1/me/mutes/problem/{problem['id']}"
    assert client.put(url, headers=auth(reader)).status_code == 201
    assert client.put(url, headers=auth(reader)).status_code == 200
    assert "Noisy thread" not in str(_preview(client, auth, reader))
    mutes = client.get("/api/v1/me/mutes", headers=auth(reader)).get_json()["items"]
    assert [(m["type"], m["id"], m["title"]) for m in mutes] == [
        ("problem", problem["id"], "Noisy thread")
    ]
    assert client.delete(url, headers=auth(reader)).status_code == 204
    assert "Noisy thread" in str(_preview(client, auth, reader))
    # What they cannot read is 404, like what does not exist.
    private = post(net.members["practice2"], net.practice2, title="Private")
    outsider = f"/api/v1/me/follows/problem/{private['id']}"
    assert client.put(outsider, headers=auth(reader)).status_code == 404
    assert client.put("/api/v1/me/follows/problem/999999", headers=auth(reader)).status_code == 404
    assert client.put("/api/v1/me/follows/measure/1", headers=auth(reader)).status_code == 404
    # Following brings a problem's comments, not only its news.
    followed = post(net.members["practice2"], net.pcn1, title="Quiet thread")
    client.put(f"/api/v1/me/follows/problem/{followed['id']}", headers=auth(reader))
    client.post(
        f"/api/v1/problems/{followed['id']}/comments",
        json={"body": "An update"},
        headers=auth(net.members["pcn1"]),
    )
    lines = _lines(_preview(client, auth, reader))
    assert ("following", "commented on “Quiet thread”") in lines


def test_nothing_new_and_nothing_overdue_is_not_worth_an_email(client, auth, net):
    preview = _preview(client, auth, net.members["practice4"])
    assert preview["worth_sending"] is False and preview["sections"] == []


def _token(session, settings, person) -> str:
    from network.uow import UnitOfWork

    link = runs.unsubscribe_link(
        UnitOfWork(lambda: session), person.id, api_url=settings.api_url, secret=settings.secret()
    )
    return link.rsplit("/", 1)[1]


def test_one_click_unsubscribe_turns_digests_off_and_a_get_never_does(
    client, auth, net, session, settings
):
    person = net.members["practice1"]
    token = _token(session, settings, person)
    url = f"/api/v1/unsubscribe/{token}"
    page = client.get(url)
    assert page.status_code == 200 and "Stop all digests" in page.get_data(as_text=True)
    assert session.get(DigestPreference, person.id).frequency is Frequency.weekly
    # As a mail provider sends it: form-encoded, no cookies, no token.
    done = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200 and "Location" not in done.headers
    session.expire_all()
    assert session.get(DigestPreference, person.id).frequency is Frequency.off
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})  # multipart, again
    assert again.status_code == 200
    assert client.post(url[:-4] + "abcd", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get("/api/v1/unsubscribe/1.00.00").status_code == 404


@pytest.mark.parametrize("choice", ["weekly", "titles"])
def test_the_page_offers_less_rather_than_nothing(client, net, session, settings, choice):
    person = net.members["practice2"]
    token = _token(session, settings, person)
    response = client.post(f"/api/v1/unsubscribe/{token}", data={"choice": choice})
    assert response.status_code == 200
    session.expire_all()
    stored = session.get(DigestPreference, person.id)
    assert stored.frequency is not Frequency.off
    assert (stored.content.value == "titles") is (choice == "titles")


def test_an_overdue_action_needs_you_and_leads_the_subject(client, auth, net):
    admin = net.admins["pcn1"]
    ws = client.post(
        "/api/v1/workstreams",
        json={"organisation_id": net.pcn1.id, "title": "Workflow", "purpose": "P"},
        headers=auth(admin),
    ).get_json()
    client.put(f"/api/v1/workstreams/{ws['id']}/practices/{net.practice1.id}", headers=auth(admin))
    owner = net.members["practice1"]
    made = client.post(
        f"/api/v1/workstreams/{ws['id']}/actions",
        json={
            "title": "Count the letters",
            "owner_id": owner.id,
            "due_on": "2026-01-05",
            "practice_id": net.practice1.id,
        },
        headers=auth(admin),
    )
    assert made.status_code == 201, made.get_json()
    preview = _preview(client, auth, owner)
    needs = [i for s in preview["sections"] if s["key"] == "needs_you" for i in s["items"]]
    assert [(i["line"], i["note"]) for i in needs] == [
        ("Your action “Count the letters” in “Workflow”", "overdue")
    ]
    assert preview["subject"].startswith("1 action overdue")
    assert re.search(r"/workstreams/\d+$", needs[0]["link"])


def test_access_lost_before_the_digest_takes_its_news_with_it(client, auth, net, post, session):
    reader = factories.person(
        session, name="Locum", email="locum@example.org", member_of=net.practice1
    )
    post(net.members["practice2"], net.pcn1, title="Seen while a member")
    assert "Seen while a member" in str(_preview(client, auth, reader))
    session.query(Membership).filter_by(person_id=reader.id).delete()
    session.flush()
    assert "Seen while a member" not in str(_preview(client, auth, reader))


def test_anonymity_holds_in_the_digest_even_for_colleagues(client, auth, net, post):
    post(net.members["practice1"], net.pcn1, title="Sensitive", anonymity="practice")
    colleague = net.admins["practice1"]
    preview = _preview(client, auth, colleague)
    [item] = [i for s in preview["sections"] for i in s["items"] if "Sensitive" in i["line"]]
    assert item["who"] is None
    text = _preview(client, auth, colleague, "text") + _preview(client, auth, colleague, "html")
    assert (
        "Member of Practice One" not in text
        and "Practice One" not in text.split("Sensitive")[1][:80]
    )
