"""Django's last-resort 400 and 404 pages, in the native API's error format under ``/api/v1/``.

DRF formats errors raised inside its views; a path no route matches (``/api/v1/violations/abc``
fails the ``<int:pk>`` converter) or a body Django refuses before any view runs (over
``DATA_UPLOAD_MAX_MEMORY_SIZE``) never reaches it, and a client parsing
``{"error": {"code", "message"}}`` got an HTML page. Elsewhere Django's own pages stay.

The Hugging Face–compatible API gets the same treatment in its own format (``{"error"}`` with
``X-Error-Message``, see ``hub.hfapi.http.error_response``): a path shaped like a Hub call that no
route takes — a legacy single-segment repository id (``gpt2``, ``bert-base-uncased``), a Space, an
endpoint this hub does not implement (``/api/repos/move``, ``…/super-squash/…``) — answered
Django's HTML page, which ``huggingface_hub`` cannot map: ``repo_exists("gpt2")`` raised instead
of returning ``False`` and ``hf_hub_download`` told the user to check their connection. Repository
shapes now answer ``RepoNotFound`` (as the Hub does for a repository it does not hold), other
``/api/`` paths a 404 naming the endpoint as not implemented.

With ``DEBUG`` on (``make run``) Django answers an unmatched path with its technical 404 page
and never calls the handlers, so ``ApiErrorsAsJson`` turns such HTML answers under the prefixes
into the same JSON.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/v1/"
log = logging.getLogger(__name__)

#: Hub API shapes naming a repository that no route takes: a Space (not hosted here), or a legacy
#: single-segment id (``/api/models/gpt2``, ``/api/models/gpt2/revision/main``, ``/gpt2/resolve/…``).
_HUB_REPO_SHAPES = re.compile(
    r"^/(?:api/spaces(?:/.*)?$"
    r"|spaces/[^/]+/[^/]+/resolve/"
    r"|api/(?:models|datasets)/[^/]+(?:/(?:revision|tree|paths-info|refs|commits|auth-check|preupload|commit"
    r"|branch|tag|discussions|settings|user-access-request)(?:/.*)?)?$"
    r"|(?:datasets/)?[^/]+/resolve/)"
)


def _hub_path(request: HttpRequest) -> bool:
    """A Hub API call no Hub route took. Under ``/api/`` the catalogue's ``/{owner}/{name}`` page may
    have matched (``/api/models-tags-by-type``) and answered 404, as ``api`` is a reserved owner name;
    elsewhere only a path no route matched counts (the catalogue's own 404s stay pages)."""
    path = request.path
    if path.startswith(API_PREFIX):
        return False
    if path.startswith("/api/"):
        return True
    return getattr(request, "resolver_match", None) is None and bool(_HUB_REPO_SHAPES.match(path))


def _hub_not_found(request: HttpRequest) -> HttpResponse:
    from hub.hfapi.http import EXPOSE_HEADERS, error_response

    path = request.path
    shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", path)[:300]
    if path.startswith(("/api/spaces", "/spaces/")):
        response = error_response(
            404, "Repository Not Found: Spaces are not hosted on this hub.", "RepoNotFound"
        )
    elif _HUB_REPO_SHAPES.match(path):
        response = error_response(
            404,
            "Repository Not Found: this hub names every repository namespace/name "
            "(legacy single-segment ids such as 'gpt2' are not hosted here).",
            "RepoNotFound",
        )
    else:
        response = error_response(
            404,
            f"{request.method} {shown} is not implemented by this hub (see docs/hub-api.md, 'Not implemented').",
        )
    response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response


def _api_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _api_error("not-found", f"no API endpoint or object at {request.path}", 404)
    if _hub_path(request):
        return _hub_not_found(request)
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
        if response.status_code != 404 or not response.get("Content-Type", "").startswith("text/html"):
            return response
        if (
            getattr(request, "resolver_match", None) is None  # no view answered: no route matched
            and request.path.startswith(API_PREFIX)
        ) or _hub_path(request):
            return not_found(request, None)
        return response


class DatabaseUnavailablePage:
    """Middleware: a catalogue page whose database went away answers 503 with ``Retry-After``.

    The Hub API and ``/api/v1/`` already answer their own 503 (``hub.hfapi.http``,
    ``licenses.api.errors``); the pages answered Django's generic 500, which reads as a bug in the
    hub and tells neither the reader to retry nor the operator where to look. The page is plain
    HTML: the site's template would touch the database again (the signed-in user). The driver's
    text is left out of it (it can name hosts and users); the log has it.
    """

    BODY = (
        "<!doctype html><meta charset=utf-8><title>Database unavailable</title>"
        "<h1>The database is unavailable</h1><p>Modelhub cannot reach its database just now. "
        "Try again in a moment.</p><p>Operators: <code>/readyz</code> names the failing part.</p>"
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("database unavailable during %s %s: %r", request.method, request.path, exception)
        response = HttpResponse(self.BODY, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = "5"
        return response
