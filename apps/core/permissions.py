"""API permissions that read what the credentials allow: an API key's scopes, and staff operations.

A view names the scope it needs (``required_scope``: a scope, or {HTTP method: scope}). A request
authenticated by an API key (``request.auth`` carrying ``scopes``) needs that scope on the key; a signed-in
session acts with the user's own rights. Kept here, below every app, so each app's API can use them.
"""

from rest_framework.permissions import BasePermission


def _required_scope(request, view) -> str | None:
    needed = getattr(view, "required_scope", None)
    return needed.get(request.method) if isinstance(needed, dict) else needed


class KeyScopeRequired(BasePermission):
    message = "This API key does not have the scope this operation needs."

    def has_permission(self, request, view) -> bool:
        needed = _required_scope(request, view)
        scopes = getattr(request.auth, "scopes", None)
        if needed is None or scopes is None:
            return True
        if needed in scopes:
            return True
        self.message = f"This API key does not have the {needed!r} scope, which this operation needs."
        return False


class StaffOperation(BasePermission):
    """Staff users only; through an API key, one with the "staff" scope."""

    message = "Only staff may do this, with a key that has the 'staff' scope."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        scopes = getattr(request.auth, "scopes", None)
        return scopes is None or "staff" in scopes
