"""HTTP conventions of the Hub API: error headers, CORS exposure, parameter parsing, dates.

Every Hub-compatible view is wrapped in ``hub_view``: it authenticates the caller,
turns service errors into the status + ``X-Error-Code`` + ``X-Error-Message`` the
``huggingface_hub`` client maps to its own exceptions, and exposes the headers
browser clients need.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from hub.auth import Caller, caller_for
from hub.blobstore import BlobStoreUnavailable
from hub.services.errors import HubError, Unauthorized

EXPOSE_HEADERS = (
    "X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,"
    "Content-Range,X-Linked-Size,X-Linked-ETag"
)
TRUE = {"1", "true", "yes", "on"}
log = logging.getLogger(__name__)


def error_response(
    status: int, message: str, code: str | None = None, commit: str | None = None, extra: dict | None = None
) -> JsonResponse:
    response = JsonResponse({"error": message, **(extra or {})}, status=status)
    # Header values must be latin-1 and single-line.
    response["X-Error-Message"] = (
        message.replace("\r", " ").replace("\n", " ").encode("latin-1", "replace").decode("latin-1")
    )
    if code:
        response["X-Error-Code"] = code
    if commit:
        response["X-Repo-Commit"] = commit
    return response


def hub_view(methods: tuple[str, ...]) -> Callable:
    """Decorator: method check, caller, error translation, CORS headers. No CSRF: token-authenticated."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = ", ".join(methods)
                response["Access-Control-Allow-Headers"] = "authorization, content-type, range"
            elif request.method not in methods:
                response = error_response(405, f"{request.method} is not allowed here")
                response["Allow"] = ", ".join(methods)
            elif "\x00" in request.path or any("\x00" in v for vs in request.GET.lists() for v in vs[1]):
                response = error_response(400, "NUL bytes are not allowed in paths or parameters")
            else:
                # Cookies are not accepted for writes: the Hub API is token-authenticated and CSRF-exempt.
                try:
                    caller = caller_for(request, allow_session=request.method in ("GET", "HEAD"))
                    if caller.bad_token:
                        # As on the Hub: a revoked, expired or unknown token is refused outright,
                        # never downgraded to anonymous (the caller would silently lose access).
                        raise Unauthorized("Invalid credentials in Authorization header")
                    response = view(request, caller, *args, **kwargs)
                except HubError as exc:
                    response = error_response(exc.status, exc.message, exc.code, exc.commit)
                except BlobStoreUnavailable as exc:
                    response = error_response(503, str(exc))
                    response["Retry-After"] = "5"
                except (OperationalError, InterfaceError) as exc:
                    # The connection died (database restarted, failover, pg_terminate_backend): the
                    # transaction in flight was rolled back, so the client may simply retry. The
                    # driver's text is left out: it can name hosts and users; the log has it.
                    log.warning("database unavailable during %s %s: %r", request.method, request.path, exc)
                    response = error_response(
                        503, f"the database is unavailable ({type(exc).__name__}); retry shortly"
                    )
                    response["Retry-After"] = "5"
            if response.status_code >= 400:
                discard_new_blobs(request)
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            return response

        return inner

    return wrap


def discard_new_blobs(request: HttpRequest) -> None:
    """Take out the inline blobs a refused commit stored (see ``hub.hfapi.ndjson.note_new_blob``)."""
    from hub.hfapi.ndjson import NEW_BLOBS_ATTR
    from hub.services.blobs import discard_unreferenced

    pending = getattr(request, NEW_BLOBS_ATTR, None)
    if not pending:
        return
    try:
        discard_unreferenced(pending)
    except Exception:  # the refusal stands either way; an orphan blob is harmless, only untidy
        log.warning("could not discard %d blobs of a refused request", len(pending), exc_info=True)


def flag(request: HttpRequest, name: str, default: bool = False, source: str = "GET") -> bool:
    raw = getattr(request, source).get(name)
    if raw is None:
        return default
    return raw.strip().lower() in TRUE


def multi(request: HttpRequest, name: str) -> list[str]:
    """Repeated ``name=a&name=b`` and ``name[]=…`` forms, flattened; comma lists are split too."""
    values = request.GET.getlist(name) + request.GET.getlist(f"{name}[]")
    return [v for raw in values for v in (raw.split(",") if name == "expand" else [raw]) if v]


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def read_json(request: HttpRequest, max_bytes: int = 5 * 1024 * 1024) -> dict:
    from hub.services.errors import BadRequest, TooLarge

    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > max_bytes:
        raise TooLarge(f"JSON body over {max_bytes} bytes")
    try:
        data = json.loads(request.read(max_bytes + 1) or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def endpoint(request: HttpRequest) -> str:
    """The base URL the client used (scheme, host and any script prefix), for URLs we hand back."""
    return request.build_absolute_uri(request.META.get("SCRIPT_NAME", "") + "/").rstrip("/")


def caller_required(caller: Caller) -> None:
    from hub.services.errors import Unauthorized

    if caller.user is None:
        raise Unauthorized(
            "Invalid credentials in Authorization header" if caller.bad_token else "Login required"
        )
