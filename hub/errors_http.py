"""Django's last-resort 400 and 404 pages, in the native API's error format under ``/api/v1/``.

DRF formats errors raised inside its views; a path no route matches (``/api/v1/violations/abc``
fails the ``<int:pk>`` converter) or a body Django refuses before any view runs (over
``DATA_UPLOAD_MAX_MEMORY_SIZE``) never reaches it, and a client parsing
``{"error": {"code", "message"}}`` got an HTML page. Elsewhere Django's own pages stay.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/v1/"


def _api_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _api_error("not-found", f"no API endpoint or object at {request.path}", 404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        detail = str(exception) or "the request could not be read"
        return _api_error("malformed-request", detail, 400)
    return defaults.bad_request(request, exception)
