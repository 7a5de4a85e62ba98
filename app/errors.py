"""Errors raised by services, mapped to form messages (HTML) or problem+json (API)."""

from __future__ import annotations

from flask_babel import gettext


class ServiceError(Exception):
    """Base class for errors a caller can show to the person who caused them."""


class ValidationFailed(ServiceError):
    """Input broke a rule; `errors` maps field names to plain messages. Nothing was saved."""

    def __init__(self, errors: dict[str, str], detail: str | None = None) -> None:
        self.errors = errors
        self.detail = detail or gettext("Some fields need your attention.")
        super().__init__(self.detail)


class Conflict(ServiceError):
    """The request conflicts with what is stored (an idempotency key reused with other data)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class NotFound(ServiceError):
    """The object does not exist or is not the caller's."""

    def __init__(self, detail: str = "Not found.", field: str | None = None) -> None:
        self.detail = detail
        self.field = field
        super().__init__(detail)
