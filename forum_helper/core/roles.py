"""The two roles: admins can do everything moderators can, plus rules, library and sources."""
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import BasePermission

MODERATORS = "moderators"
ADMINS = "admins"


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.groups.filter(name=ADMINS).exists()))


def is_moderator(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (is_admin(user) or user.groups.filter(name=MODERATORS).exists()))


class IsModerator(BasePermission):
    message = "Moderator role required."

    def has_permission(self, request, view) -> bool:
        return is_moderator(request.user)


class IsAdmin(BasePermission):
    message = "Admin role required."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)
