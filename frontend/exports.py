"""CSV downloads of what a page lists: the catalogue and the violation queue, with its filters.

A licensing engineer takes the list elsewhere (a spreadsheet, a ticket, a review meeting); the page
shows 30 or 50 rows at a time. The rows are streamed, so the size of the list costs no memory, and
only what the viewer may see is in them (the pages' own querysets).

Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return
first: model names, messages and reasons come from cards and requests) are written with a leading
apostrophe, OWASP's advice against CSV injection; Python's ``csv`` module has no option for it.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming ``csv.writer``."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_download(
    request: HttpRequest,
    filename: str,
    header: Sequence[str],
    queryset: QuerySet,
    row: Callable[[Any, str], Sequence[Any]],
) -> StreamingHttpResponse:
    """``queryset`` as CSV, one ``row(object, site URL)`` per object, read in chunks."""
    base = request.build_absolute_uri("/").rstrip("/")
    return csv_response(filename, header, (row(obj, base) for obj in queryset.iterator(chunk_size=500)))


def token_or_session(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let an export be fetched with ``Authorization: Bearer`` as well as the session.

    The CSV exports are what scripts and spreadsheets pull; with the session alone, automation
    silently got the public rows only. A token that does not resolve is refused (401), as on the
    APIs, never read as anonymous: a report quietly missing its private rows is worse than none.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from hub.auth import caller_for

        if request.headers.get("Authorization"):
            caller = caller_for(request, allow_session=False)
            if caller.bad_token or caller.user is None:
                response = HttpResponse("Invalid credentials in Authorization header\n", status=401,
                                        content_type="text/plain; charset=utf-8")  # fmt: skip
                response["WWW-Authenticate"] = "Bearer"
                return response
            request.user = caller.user
        return view(request, *args, **kwargs)

    return wrapped
