"""The rate limiter belongs to the sign-in pages: its request hooks are the sign-in blueprint's,
so API requests never pass through it. (The sign-in flow tests prove the 429 still happens.)"""

import functools
import uuid

import pytest
from flask_limiter import Limiter

from api.app import create_app
from api.auth import pages
from tests import factories


def _is_the_limiters(hook) -> bool:
    """A bound method of the limiter, or a partial over it (its header hook)."""
    if isinstance(hook, functools.partial):
        return any(arg is pages.limiter for arg in hook.args)
    return getattr(hook, "__self__", None) is pages.limiter


HOOK_KINDS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")


@pytest.mark.parametrize("kind", HOOK_KINDS)
def test_the_limiters_hooks_are_the_signin_blueprints_not_the_apps(app, kind):
    hooks = getattr(app, kind)
    assert not [hook for hook in hooks.get(None, []) if _is_the_limiters(hook)]
    assert len([hook for hook in hooks.get(pages.blp.name, []) if _is_the_limiters(hook)]) == 1
    for name, registered in hooks.items():
        if name != pages.blp.name:
            assert not [hook for hook in registered if _is_the_limiters(hook)], name


def test_the_limiter_checks_signin_pages_and_never_api_requests(
    settings, session_factory, net, monkeypatch
):
    from flask import request

    checked: list[str] = []  # by the request hook; the limited views also check from within
    real = Limiter._check_request_limit

    def check(self, callable_name=None, in_middleware=True):
        if in_middleware:
            checked.append(request.path)
        return real(self, callable_name=callable_name, in_middleware=in_middleware)

    # Before the app exists: init_app registers the bound method as the request hook.
    monkeypatch.setattr(Limiter, "_check_request_limit", check)
    app = create_app(
        settings, session_factory=session_factory, config={"RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}
    )
    client = app.test_client()
    token = factories.token(app, net.members["practice1"])
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert client.get("/api/v1/problems", headers={"Authorization": "Bearer x"}).status_code == 401
    assert checked == []
    assert client.get("/account/forgot-password").status_code == 200
    assert checked == ["/account/forgot-password"]
