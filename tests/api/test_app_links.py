"""Links into the app (API.md): with no app deployed at PUBLIC_URL (the embedded default),
every path an email, a calendar event or a digest links to answers with a small page saying
what was linked and how to see it through the API — the invitation's "Open Commons" included."""

import email
import re
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from api.app import create_app
from tests import factories

LINKS = {
    "/problems/42": "/api/v1/problems/42",
    "/workstreams/7": "/api/v1/workstreams/7",
    "/workstreams/7/agenda": "/api/v1/workstreams/7/agenda?format=html",
    "/library/3": "/api/v1/library/3",
    "/activity": "/api/v1/activity",
    "/settings/digest": "/api/v1/me/digest",
}


@pytest.mark.parametrize("path, api_path", LINKS.items())
def test_each_link_into_the_app_has_a_page_saying_how_to_see_it(client, settings, path, api_path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert f"{settings.api_url}{api_path}".replace("&", "&amp;") in text
    assert "script" not in text.lower()
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/problems/abc", "/problems/0", "/workstreams/\u0661"])
def test_a_link_without_a_real_id_is_not_a_page(client, path):
    assert client.get(path).status_code == 404


def test_where_an_app_is_deployed_the_api_serves_no_such_pages(settings, session_factory):
    app = create_app(
        replace(settings, public_url="https://commons.example.nhs.uk"),
        session_factory=session_factory,
    )
    response = app.test_client().get("/problems/42")
    assert response.status_code == 404 and response.get_json()["code"] == 404


def test_the_invitations_open_commons_link_leads_to_a_page(
    settings, session_factory, net, tmp_path
):
    inline = replace(settings, redis_url=None, instance_path=tmp_path / "instance")
    app = create_app(inline, session_factory=session_factory)
    token = factories.token(app, net.admins["practice1"])
    client = app.test_client()
    response = client.post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": "new.nurse@example.org", "name": "New Nurse", "role": "member"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    [eml] = sorted(inline.outbox_path.glob("*.eml"))
    text = email.message_from_bytes(eml.read_bytes()).get_payload(decode=True).decode()
    link = re.search(r"Open Commons: (\S+)", text).group(1)
    page = client.get(urlsplit(link).path or "/")
    assert page.status_code == 200 and "Commons" in page.get_data(as_text=True)
