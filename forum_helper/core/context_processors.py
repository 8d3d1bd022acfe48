from django.http import HttpRequest

from forum_helper.core.roles import is_admin, is_moderator


def roles(request: HttpRequest) -> dict[str, bool]:
    """Which navigation a page shows: admins also see rules and Django admin."""
    user = getattr(request, "user", None)
    if user is None:
        return {"user_is_moderator": False, "user_is_admin": False}
    return {"user_is_moderator": is_moderator(user), "user_is_admin": is_admin(user)}
