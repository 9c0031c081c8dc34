"""Access-request review for gated repositories (the client's ``*_access_request`` and ``grant_access``).

Only admins of the repository's namespace review requests; anyone else who can see the
repository gets 403, and a private repository stays a 404 for those who cannot. The listing is
a JSON array (0.x reads one response) with a ``Link`` header when there are more (newer
clients follow it).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from hub.auth import Caller
from hub.hfapi.http import hub_view, iso, read_json
from hub.hfapi.read import TYPES, decode_cursor, next_link, page_size
from hub.models import AccessRequest
from hub.services import gating
from hub.services.access import get_administrable
from hub.services.errors import BadRequest, Forbidden


def request_json(req: AccessRequest) -> dict[str, Any]:
    user = req.user
    return {
        "requestId": gating.request_id(req),
        "user": {
            "user": user.get_username(),
            "fullname": user.get_full_name() or user.get_username(),
            "email": user.email or None,
        },
        "status": req.status,
        "timestamp": iso(req.created_at),
        "fields": req.fields or None,
        "rejectionReason": req.rejection_reason or None,
    }


@hub_view(("GET",))
def listing(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, status: str):
    repo = get_administrable(caller, TYPES[kind], ns, name)
    qs = gating.requests_with_status(repo, status)
    size = page_size(request.GET.get("limit"))
    offset = decode_cursor(request.GET.get("cursor"))
    page = list(qs[offset : offset + size + 1])
    response = JsonResponse([request_json(r) for r in page[:size]], safe=False)
    if len(page) > size:
        response["Link"] = next_link(request, offset + size)
    return response


def _writer_token(caller: Caller) -> None:
    if not caller.can_write:
        raise Forbidden("this token is read-only; deciding on access requests needs a write token")


@hub_view(("POST",))
def handle(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str):
    repo = get_administrable(caller, TYPES[kind], ns, name)
    _writer_token(caller)
    body = read_json(request)
    if ("user" in body) == ("requestId" in body):
        raise BadRequest("name the request by exactly one of user or requestId")
    req = gating.handle(
        repo, caller.user, status=body.get("status"), username=body.get("user"),
        request_id=body.get("requestId"), rejection_reason=body.get("rejectionReason"),
    )  # fmt: skip
    return JsonResponse(request_json(req))


@hub_view(("POST",))
def grant(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str):
    repo = get_administrable(caller, TYPES[kind], ns, name)
    _writer_token(caller)
    body = read_json(request)
    req = gating.grant(repo, caller.user, body.get("user"))
    return JsonResponse(request_json(req))
