"""The two roles: admins can do everything moderators can, plus rules, library and sources."""
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import BasePermission

MODERATORS = "moderators"
ADMINS = "admins"


def _group_names(user: AbstractBaseUser) -> frozenset[str]:
    # A page asks several times (menu, permission, template); request.user lives one request,
    # so one query per request is enough.
    names = getattr(user, "_role_group_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        user._role_group_names = names
    return names


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or ADMINS in _group_names(user)))


def is_moderator(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or bool(_group_names(user) & {ADMINS, MODERATORS})))


class IsModerator(BasePermission):
    message = "Moderator role required."

    def has_permission(self, request, view) -> bool:
        return is_moderator(request.user)


class IsAdmin(BasePermission):
    message = "Admin role required."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)
