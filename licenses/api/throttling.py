"""Rate limits per API token (or per user / client address without one)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class PerTokenRateThrottle(SimpleRateThrottle):
    """Each token gets its own bucket, so one busy CI pipeline cannot starve the others."""

    scope = "api"

    def get_rate(self) -> str:
        return getattr(settings, "MODELHUB_API_RATE", "1200/min")

    def get_cache_key(self, request, view) -> str:
        token = getattr(request, "auth", None)
        if token is not None and getattr(token, "prefix", None):
            ident = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
