"""The exception tree of ``atr``.

Which exception a Rust error becomes, with which ``code`` and ``http_status``, is decided once,
in the native module (``atr-py/src/errors.rs``); these classes only carry what it says.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AtrError",
    "NotAuthenticated",
    "InvalidSession",
    "Forbidden",
    "NotFound",
    "Conflict",
    "InvalidInput",
    "Unavailable",
]


class AtrError(Exception):
    """Every error of the platform: a stable snake_case ``code`` and the HTTP status to answer."""

    default_code: ClassVar[str] = "error"
    default_http_status: ClassVar[int] = 500

    code: str
    http_status: int
    details: dict[str, Any]

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.http_status = http_status if http_status is not None else self.default_http_status
        self.details = dict(details) if details else {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON API's error body: ``{"error": {"code", "message", "details"}}``."""
        return {"error": {"code": self.code, "message": self.message, "details": dict(self.details) or None}}


class NotAuthenticated(AtrError):
    """Nobody is signed in, or the credential presented is not accepted (401)."""

    default_code = "unauthenticated"
    default_http_status = 401


class InvalidSession(AtrError, ValueError):
    """A session whose shape or values cannot describe a principal (401)."""

    default_code = "invalid_session"
    default_http_status = 401


class Forbidden(AtrError):
    """The principal may not do this (403)."""

    default_code = "forbidden"
    default_http_status = 403


class NotFound(AtrError):
    """No such object (404)."""

    default_code = "not_found"
    default_http_status = 404


class Conflict(AtrError):
    """The state does not allow it, or another change won a race (409)."""

    default_code = "conflict"
    default_http_status = 409


class InvalidInput(AtrError, ValueError):
    """The input is refused (400; ``too_large`` answers 413)."""

    default_code = "invalid"
    default_http_status = 400


class Unavailable(AtrError):
    """Storage failed, the handle is closed, or the process is exiting (503)."""

    default_code = "unavailable"
    default_http_status = 503
