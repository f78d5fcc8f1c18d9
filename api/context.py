"""The request's unit of work and principal."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from flask import Request, current_app, g, request
from sqlalchemy.orm import sessionmaker

from api.auth import keys as signing_keys
from api.auth.keys import SigningKeys
from network.access import Principal
from network.config import Settings
from network.content import ReadCache
from network.people.models import Person
from network.uow import Dispatcher, Origin, UnitOfWork

KEY_FILE_CHECK_SECONDS = 5.0
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Requests that never change anything: their unit of work does not take SQLite's write lock.
READ_ONLY_METHODS = SAFE_METHODS | {"OPTIONS"}


@dataclass
class Commons:
    """What the app holds for its requests: settings, sessions, keys and the job dispatcher."""

    settings: Settings
    session_factory: sessionmaker
    dispatch: Dispatcher
    # Shared by the process's requests that only read (GET, HEAD): see network/content.py.
    read_cache: ReadCache | None = None
    authorization_server: AuthorizationServer | None = field(default=None, repr=False)
    _keys: SigningKeys | None = field(default=None, repr=False)

    _loaded: tuple[float, SigningKeys] | None = field(default=None, repr=False)
    _checked_at: float = field(default=0.0, repr=False)

    @property
    def keys(self) -> SigningKeys:
        """The signing keys, re-read when the file changes (`commons keys rotate`), so every
        process signs with the newest key and verifies tokens signed by any published one.

        The key generated into `instance/` is only the embedded default: a `SIGNING_KEY_FILE`
        set by the operator must exist."""
        if self._keys is not None:
            return self._keys
        now = time.monotonic()
        if self._loaded is not None and now - self._checked_at < KEY_FILE_CHECK_SECONDS:
            return self._loaded[1]
        self._checked_at = now
        path = self.settings.signing_key_file
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            mtime = -1.0
        if self._loaded is None or self._loaded[0] != mtime:
            keys = signing_keys.load(path, generate=self.settings.generate_signing_key)
            self._loaded = (path.stat().st_mtime, keys)
        return self._loaded[1]


def commons() -> Commons:
    return current_app.extensions["commons"]


# Flask's `request` and `g` are proxies: every attribute read through one finds the current
# context again. Code that reads several attributes on every request (the hooks, the unit of
# work) takes the object once, as Flask's "Notes On Proxies" advise.
def this_request() -> Request:
    """The current request itself, not its proxy."""
    return request._get_current_object()  # type: ignore[attr-defined]


def this_g() -> Any:
    """The current context's `g` itself, not its proxy (Flask's `_AppCtxGlobals`)."""
    return g._get_current_object()


def uow() -> UnitOfWork:
    """The request's unit of work, opened on first use; the app commits it after the view."""
    store = this_g()
    unit = store.get("uow")
    if unit is None:
        c = commons()
        req = this_request()
        channel = "oauth" if req.path.startswith(("/oauth/", "/account/")) else "api"
        method = req.method
        unit = store.uow = UnitOfWork(
            c.session_factory,
            c.dispatch,
            Origin(channel, req.remote_addr),
            read_cache=c.read_cache if method in SAFE_METHODS else None,
            writes=method not in READ_ONLY_METHODS,
        )
    return unit


def principal() -> Principal:
    return g.principal


def current_person() -> Person:
    """The signed-in person, loaded when a view needs more of them than the principal holds."""
    person = uow().session.get(Person, g.principal.person_id)
    if person is None:  # authentication found them in this same transaction
        raise LookupError(f"person {g.principal.person_id} vanished during the request")
    return person
