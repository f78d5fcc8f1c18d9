"""Access tokens, as the built-in issuer mints them."""

from __future__ import annotations

from api.auth.tokens import mint_access_token
from network.people.models import Person


def token(app, p: Person, **overrides) -> str:
    """A valid access token for a person, as the built-in issuer mints it."""
    state = app.extensions["commons"]
    return _mint(state.keys, state.settings, p, overrides)


def token_for_settings(settings, p: Person, **overrides) -> str:
    """The same, for a server started elsewhere with these settings (same key file)."""
    from api.auth.keys import load

    return _mint(load(settings.signing_key_file, generate=True), settings, p, overrides)


def _mint(keys, settings, p: Person, overrides: dict) -> str:
    kwargs = {
        "issuer": settings.issuer,
        "audience": settings.audience,
        "subject": str(p.id),
        "client_id": "tests",
    }
    kwargs.update(overrides)
    return mint_access_token(keys, **kwargs)
