import pytest
from django.test import Client

from tests.moderation.factories import user_create


@pytest.fixture
def moderator(db):
    return user_create("mod", "moderators")


@pytest.fixture
def other_moderator(db):
    return user_create("mod2", "moderators")


@pytest.fixture
def admin_user(db):
    return user_create("boss", "admins")


@pytest.fixture
def mod_client(moderator) -> Client:
    client = Client()
    client.force_login(moderator)
    return client
