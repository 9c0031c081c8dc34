"""One error format for the whole native API: ``{"error": {"code", "message", "detail"}}``.

DRF's default bodies vary by exception (``{"detail": ...}``, field dicts); clients and
the CI hook want one machine-readable ``code`` and one human ``message`` every time.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApiError(exceptions.APIException):
    """An API error with a stable code; raise it from views."""

    def __init__(self, code: str, message: str, http_status: int = 400, detail: Any = None) -> None:
        super().__init__(message, code)
        self.status_code = http_status
        self.error_code = code
        self.extra = detail


def _code_for(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return exc.error_code
    return {
        exceptions.NotAuthenticated: "not-authenticated",
        exceptions.AuthenticationFailed: "authentication-failed",
        exceptions.PermissionDenied: "permission-denied",
        exceptions.NotFound: "not-found",
        Http404: "not-found",
        exceptions.MethodNotAllowed: "method-not-allowed",
        exceptions.Throttled: "rate-limited",
        exceptions.ParseError: "malformed-request",
        exceptions.UnsupportedMediaType: "unsupported-media-type",
        exceptions.ValidationError: "invalid-request",
    }.get(type(exc), "error")


logger = logging.getLogger(__name__)

#: Seconds a client is told to wait when the database is unreachable (Retry-After).
DATABASE_RETRY_AFTER = 5


def _database_unavailable(exc: Exception) -> Response:
    """The database connection failed (server down, restarted, connection killed): a 503 in
    the API's error format, with Retry-After, instead of Django's HTML 500 page. Nothing
    partial is committed: the transaction the request was in is rolled back with the
    connection, and the next request reconnects."""
    logger.error("database unavailable during an API request: %s", exc)
    body = {
        "error": {
            "code": "database-unavailable",
            "message": "the database is unavailable; nothing was changed, retry shortly",
        }
    }
    return Response(
        body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(DATABASE_RETRY_AFTER)}
    )


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return _database_unavailable(exc)
        return None
    data = response.data
    if isinstance(exc, ApiError):
        message, detail = str(exc.detail), exc.extra
    elif isinstance(data, dict) and set(data) == {"detail"}:
        message, detail = str(data["detail"]), None
    else:
        message, detail = "the request is invalid", data
    body: dict[str, Any] = {"code": _code_for(exc), "message": message}
    if detail is not None:
        body["detail"] = detail
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after_seconds"] = int(exc.wait)
    response.data = {"error": body}
    return response


def error_response(code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"error": {"code": code, "message": message}}, status=http_status)
