"""Who may do what through the licences API."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def token_can_write(request) -> bool:
    token = getattr(request, "auth", None)
    return token is None or bool(getattr(token, "can_write", False))


class WriteScopeForUnsafe(BasePermission):
    """Reads are open to what the caller can see; changes need a signed-in user and, with a token,
    the write scope."""

    message = "this change needs a signed-in user or a token with the write scope"

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and token_can_write(request))


class StaffForUnsafe(WriteScopeForUnsafe):
    """Policies are the organisation's rules: only staff change them."""

    message = "only staff may change policies"

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().has_permission(request, view) and bool(request.user.is_staff)
