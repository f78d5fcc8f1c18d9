"""The request's unit of work and principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from authlib.integrations.flask_oauth2 import AuthorizationServer
from flask import current_app, g
from sqlalchemy.orm import sessionmaker

from api.auth import keys as signing_keys
from api.auth.keys import SigningKeys
from network.access import Principal
from network.config import Settings
from network.uow import Dispatcher, UnitOfWork


@dataclass
class Commons:
    """What the app holds for its requests: settings, sessions, keys and the job dispatcher."""

    settings: Settings
    session_factory: sessionmaker
    dispatch: Dispatcher
    authorization_server: AuthorizationServer | None = field(default=None, repr=False)
    _keys: SigningKeys | None = field(default=None, repr=False)

    @cached_property
    def keys(self) -> SigningKeys:
        """Loaded on first use, so `commons keys rotate` works before a key file exists.

        The key generated into `instance/` is only the embedded default: a `SIGNING_KEY_FILE`
        set by the operator must exist."""
        if self._keys is not None:
            return self._keys
        return signing_keys.load(
            self.settings.signing_key_file, generate=self.settings.generate_signing_key
        )


def commons() -> Commons:
    return current_app.extensions["commons"]


def uow() -> UnitOfWork:
    """The request's unit of work, opened on first use; the app commits it after the view."""
    if "uow" not in g:
        c = commons()
        g.uow = UnitOfWork(c.session_factory, c.dispatch)
    return g.uow


def principal() -> Principal:
    return g.principal
