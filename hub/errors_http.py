"""Django's last-resort 400 and 404 pages, in the native API's error format under ``/api/v1/``.

DRF formats errors raised inside its views; a path no route matches (``/api/v1/violations/abc``
fails the ``<int:pk>`` converter) or a body Django refuses before any view runs (over
``DATA_UPLOAD_MAX_MEMORY_SIZE``) never reaches it, and a client parsing
``{"error": {"code", "message"}}`` got an HTML page. Elsewhere Django's own pages stay.

With ``DEBUG`` on (``make run``) Django answers an unmatched path with its technical 404 page
and never calls the handlers, so ``ApiErrorsAsJson`` turns such HTML answers under the prefix
into the same JSON.
"""

from __future__ import annotations

from collections.abc import Callable

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


class ApiErrorsAsJson:
    """Middleware: the HTML 404 Django's DEBUG mode gives for a path no route matches under the API
    prefix becomes the JSON error ``not_found`` gives without DEBUG. Only when no view answered:
    a view's own errors (DRF renders them as HTML for ``Accept: text/html``) are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and getattr(request, "resolver_match", None) is None  # no view answered: no route matched
            and request.path.startswith(API_PREFIX)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return not_found(request, None)
        return response
