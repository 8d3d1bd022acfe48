import os

import pytest
from django.contrib.auth.models import Group, User

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(name: str, available: bool, how_to_fix: str) -> None:
    """In CI a missing service fails the test; elsewhere it skips with the reason."""
    if available:
        return
    message = f"{name} is not available: {how_to_fix}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


TEST_PASSWORD = "pw-123456789"


def user_with_role(username: str, group: str | None = None) -> User:
    """A user in one role group (moderators, admins) or in none."""
    user = User.objects.create_user(username=username, password=TEST_PASSWORD)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture(autouse=True)
def forum_source_cache_cleared() -> None:
    """Each test's database is reset behind the app's back (a rollback sends no signals), so no
    test may answer from a source an earlier test cached."""
    from forum_helper.intake.selectors import forum_source_cache_clear

    forum_source_cache_clear()
