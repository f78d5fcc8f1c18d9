"""Domain errors; the HTTP layer maps each to a status code, the CLI to a one-line message."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a service raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None, location: str = "json") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.location = location


class NotFound(DomainError):
    """It does not exist, or the principal may not know that it does."""


class Forbidden(DomainError):
    """The principal can see it but may not do this."""


class Invalid(DomainError):
    """The input breaks a rule of the domain."""


class Conflict(DomainError):
    """The change clashes with the current state."""


class PreconditionFailed(Conflict):
    """The thing changed since the caller read it (If-Match)."""


class PreconditionRequired(DomainError):
    """A change to something edited concurrently must say which version it changes."""
