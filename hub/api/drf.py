"""Defaults of the native API (``/api/v1/``) that DRF's own classes get wrong for a public service.

* Bodies are JSON only. DRF's default form and multipart parsers made every write endpoint
  advertise bodies (in the OpenAPI schema) that cannot express its lists and objects.
* A JSON document nested thousands of levels deep makes ``json.loads`` raise
  ``RecursionError``, which DRF does not turn into a parse error: a 500 for a 6 KB body, even
  anonymously. :class:`JSONBodyParser` answers it as the malformed body it is.
* ``?limit=`` is capped and ``?offset=`` bounded: DRF's ``LimitOffsetPagination`` passes any
  integer to the database (a 20-digit one overflows SQLite's integer, a 500) and, without a
  cap, a large valid limit returns every row in one response.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser

#: Largest page a client may ask for with ``?limit=``.
MAX_PAGE_SIZE = 1000
#: Largest ``?offset=`` passed to the database (far past any real listing; within every
#: engine's integer range).
MAX_OFFSET = 2**31


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, with absurd nesting refused as a parse error (400) instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply") from exc


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``LimitOffsetPagination`` with ``limit`` capped at :data:`MAX_PAGE_SIZE` and ``offset``
    clamped to :data:`MAX_OFFSET` (past the end: an empty page, as for any offset past the end)."""

    max_limit = MAX_PAGE_SIZE

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
