"""Bearer-token protection of every non-public /api/v1 route (default deny)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from flask import current_app, request
from flask_smorest import abort

from api.auth.external import ExternalIssuer, ExternalTokenError, unverified_issuer
from api.auth.tokens import AccessTokenValidator
from api.blueprint import MAX_ID
from api.context import commons, this_g, this_request, uow
from network import content
from network.access import PRINCIPAL, Principal, principal_from
from network.people.models import Person
from network.signin import external

F = TypeVar("F", bound=Callable)


def public(view: F) -> F:
    """Mark a view as needing no access token (pair it with `@blp.doc(security=[])`)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


# Endpoints that are not views of ours: the pages' stylesheet.
PUBLIC_ENDPOINTS = frozenset({"static"})


def is_public_endpoint(endpoint: str | None, method: str) -> bool:
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return True  # no route: the 404/405 handlers answer
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return True
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        view = handler or view
    return bool(getattr(view, "is_public", False))


class Protector(ResourceProtector):
    def raise_error_response(self, error: OAuth2Error):
        description = error.description or "A valid bearer access token is required."
        abort(
            error.status_code,
            message=description,
            headers=dict(error.get_headers()),
        )


def make_protector(validator: AccessTokenValidator) -> Protector:
    protector = Protector()
    protector.register_token_validator(validator)
    return protector


def authenticate() -> None:
    """Before each request: every route that is not public needs a valid access token, from
    this API's own issuer or from a configured external one."""
    req = this_request()
    method = req.method
    if method == "OPTIONS" or is_public_endpoint(req.endpoint, method):
        return
    extensions = current_app.extensions
    external = extensions["commons_external_issuers"]
    token = _bearer_token() if external else None  # the issuer matters only with external ones
    issuer = unverified_issuer(token) if token else None
    if issuer is not None and issuer in external and issuer != commons().settings.issuer:
        person_id = _external_person(external[issuer], token).id
    else:
        person_id = _subject(_own_token_claims(extensions["commons_protector"], req).get("sub"))
    found = None
    if person_id is not None:
        unit = uow()
        key = ("principal", person_id)
        # The boards they read, as last seen, only to read the numbers of their scopes with
        # the principal's own in one round trip (`network.content`).
        seen = unit.peek(key)
        if isinstance(seen, Principal):
            unit.expect_scopes(content.board(b) for b in seen.belongs)
        # A workstream's remembered pages depend on its scope too (`api.remembered`).
        workstream_id = (req.view_args or {}).get("workstream_id")
        if isinstance(workstream_id, int):
            unit.expect_scopes([content.workstream(workstream_id)])
        # Remembered while nothing they are changes (people, organisations: `all`) and their
        # memberships stand (their own scope).
        # Read through the unit: a GET that has opened no transaction yet reads it without one.
        found = unit.cached(
            key,
            lambda: principal_from(unit.read(PRINCIPAL, {"person_id": person_id}), person_id),
            scopes=[content.person(person_id)],
        )
    if found is None:
        _refuse("The token's subject is not an active person.")
    this_g().principal = found


def _own_token_claims(protector: Protector, req):
    """The claims of a valid token of this API's own issuer, or a 401 (authlib's errors)."""
    try:
        # The validator reads the Authorization header only; no need to wrap the whole request.
        return protector.validate_request(scopes=None, request=_HeadersOnly(req.headers))
    except OAuth2Error as error:
        token = _bearer_token()
        claimed = unverified_issuer(token) if token else None
        expected = commons().settings.issuer
        if claimed is not None and claimed != expected:
            # The usual cause: a token minted for another port or URL (`commons token` names
            # API_URL as the issuer, and API_URL follows PORT). Say which one this API takes.
            _refuse(
                f"The token was issued by {claimed}, but this API accepts tokens issued by "
                f"{expected} (its API_URL). Get one from this server, e.g. with `commons token` "
                "run with the same API_URL (or PORT)."
            )
        protector.raise_error_response(error)


class _HeadersOnly:
    __slots__ = ("headers",)

    def __init__(self, headers) -> None:
        self.headers = headers


def _bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _external_person(issuer: ExternalIssuer, token: str) -> Person:
    try:
        claims = issuer.verify(token)
    except ExternalTokenError as error:
        _refuse(f"The token is not valid for this API: {error}")
    try:
        return external.person_for(uow(), claims)
    except external.NotInvited as refusal:
        # A 403 rolls the request back; nothing else has happened yet, so commit the record now.
        uow().rollback()
        external.record_refusal(uow(), claims, refusal.message)
        uow().commit()
        abort(403, message=refusal.message)


def _refuse(message: str):
    abort(401, message=message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _subject(sub: object) -> int | None:
    """A person's id from a token's subject: ASCII digits within the id column's range."""
    if isinstance(sub, str) and 0 < len(sub) <= 10 and sub.isascii() and sub.isdigit():
        person_id = int(sub)
        return person_id if person_id <= MAX_ID else None
    return None
