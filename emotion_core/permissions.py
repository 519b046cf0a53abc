"""Roles and what each may do; every page and API endpoint checks through :func:`require`."""

from __future__ import annotations

from typing import Protocol

from emotion_core.errors import PermissionDenied

ROLES = ("admin", "analyst", "viewer")
PERMISSIONS: dict[str, frozenset[str]] = {
    "analyze": frozenset({"admin", "analyst"}),
    "view": frozenset(ROLES),
    "delete": frozenset({"admin", "analyst"}),
    "acknowledge": frozenset({"admin", "analyst"}),
    "manage_users": frozenset({"admin"}),
    "manage_rules": frozenset({"admin"}),
}
"""Which roles may do what. Admins also see every user's analyses; the others see their own and shared ones."""


class HasRole(Protocol):
    role: str


class Person(HasRole, Protocol):
    id: int


def allowed(user: HasRole | None, permission: str) -> bool:
    return user is not None and user.role in PERMISSIONS[permission]


def sees_everything(user: HasRole) -> bool:
    """Whether ``user`` sees every user's analyses, alerts and jobs (an admin), not only their own and shared ones."""
    return user.role == "admin"


def owns(user: Person, owner_id: int) -> bool:
    """Whether ``user`` may change (delete, share, unshare, revoke) what user ``owner_id`` made: its owner or an
    admin."""
    return sees_everything(user) or user.id == owner_id


def require(user: HasRole | None, permission: str) -> None:
    """Raise :class:`PermissionDenied` unless the user's role allows ``permission``."""
    if user is None:
        raise PermissionDenied("sign in first.")
    if not allowed(user, permission):
        raise PermissionDenied(f"a {user.role} may not {permission.replace('_', ' ')}.")
