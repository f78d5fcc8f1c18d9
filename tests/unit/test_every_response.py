"""The headers every response carries (api.headers.EveryResponse), on a bare WSGI app, and the
app's remembered answer to "is this view a coroutine function?" (api.app.CommonsFlask)."""

from __future__ import annotations

import pytest
from flask.views import MethodView
from werkzeug.test import Client
from werkzeug.wrappers import Response

from api.app import CommonsFlask
from api.headers import REQUEST_ID, SECURITY_HEADERS, EveryResponse, request_id


def _app(*headers: tuple[str, str], seen: list | None = None):
    def app(environ, start_response):
        if seen is not None:
            seen.append(request_id(environ))
        start_response("200 OK", [("Content-Type", "text/plain"), *headers])
        return [b"ok"]

    return app


def _get(app, path="/api/v1/x", **kwargs):
    return Client(app, Response).get(path, **kwargs)


def test_every_response_gets_the_security_headers_once():
    response = _get(EveryResponse(_app(), vary_origin=False))
    for name, value in SECURITY_HEADERS:
        assert response.headers.getlist(name) == [value]
    assert "Strict-Transport-Security" not in response.headers
    assert "Vary" not in response.headers


def test_a_views_own_security_header_is_kept():
    page_csp = "default-src 'none'; form-action 'self'"
    app = EveryResponse(_app(("Content-Security-Policy", page_csp)), vary_origin=False)
    assert _get(app).headers.getlist("Content-Security-Policy") == [page_csp]


def test_hsts_only_over_https_and_never_twice():
    app = EveryResponse(_app(), vary_origin=False)
    secure = _get(app, base_url="https://commons.example")
    assert secure.headers.getlist("Strict-Transport-Security") == [
        "max-age=63072000; includeSubDomains"
    ]
    own = ("Strict-Transport-Security", "max-age=60")
    again = _get(EveryResponse(_app(own), vary_origin=False), base_url="https://commons.example")
    assert again.headers.getlist("Strict-Transport-Security") == ["max-age=60"]


def test_no_store_on_the_apis_answers_to_credentials_unless_the_view_says_otherwise():
    app = EveryResponse(_app(), vary_origin=False)
    bearer = {"Authorization": "Bearer x"}
    assert _get(app, headers=bearer).headers.getlist("Cache-Control") == ["no-store"]
    assert "Cache-Control" not in _get(app).headers  # no credentials
    assert "Cache-Control" not in _get(app, "/healthz", headers=bearer).headers  # not the API
    own = EveryResponse(_app(("Cache-Control", "private, no-store")), vary_origin=False)
    assert _get(own, headers=bearer).headers.getlist("Cache-Control") == ["private, no-store"]


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        ((), ["Origin"]),
        ((("Vary", "Accept-Encoding"),), ["Accept-Encoding, Origin"]),
        ((("Vary", "Origin"),), ["Origin"]),
        ((("vary", "accept, origin"),), ["accept, origin"]),
        ((("Vary", "*"),), ["*"]),
    ],
)
def test_vary_names_origin_once_where_cors_is_on(own, expected):
    app = EveryResponse(_app(*own), vary_origin=True)
    assert _get(app).headers.getlist("Vary") == expected


def test_the_request_id_is_the_clients_when_sensible_else_a_new_one():
    seen: list = []
    app = EveryResponse(_app(seen=seen), vary_origin=False)
    assert _get(app, headers={"X-Request-ID": "abc-123-def"}).headers["X-Request-ID"] == (
        "abc-123-def"
    )
    made = _get(app, headers={"X-Request-ID": "bad id\twith spaces"}).headers["X-Request-ID"]
    other = _get(app).headers["X-Request-ID"]
    assert len(made) == len(other) == 32 and made != other
    assert seen == ["abc-123-def", made, other]  # what the app (its log line) was told
    assert REQUEST_ID == "commons.request_id"


def test_coroutine_checks_are_remembered_per_function_not_per_view_instance():
    app = CommonsFlask(__name__)

    class Things(MethodView):
        def get(self):
            return "things"

    app.add_url_rule("/things", view_func=Things.as_view("things"))

    async def later():
        return "later"

    app.add_url_rule("/later", view_func=later)
    client = app.test_client()
    for _ in range(5):
        assert client.get("/things").get_data(as_text=True) == "things"
    remembered = dict(app._coroutine_function)
    assert remembered[Things.get] is False
    for _ in range(5):
        client.get("/things")
    assert app._coroutine_function == remembered  # a view instance a request adds nothing
    with pytest.raises(RuntimeError, match="async"):  # handed to async_to_sync, as by Flask
        app.ensure_sync(later)
    assert app._coroutine_function[later] is True


def test_the_remembered_checks_are_bounded():
    app = CommonsFlask(__name__)
    app.REMEMBERED_MAX = 3
    made = [lambda: None for _ in range(10)]
    for func in made:
        assert app.ensure_sync(func) is func
    assert len(app._coroutine_function) == 3


def test_a_callable_that_cannot_be_remembered_is_still_served():
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self):
            return "served"

    app = CommonsFlask(__name__)
    view = Unhashable()
    assert app.ensure_sync(view) is view and app._coroutine_function == {}
