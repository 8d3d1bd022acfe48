import importlib

import pytest
from django.test import Client

from tests.moderation.factories import user_create


@pytest.fixture(autouse=True)
def _urls(settings) -> None:
    """Use the site URLconf; fall back to the moderation-only one when another app's code does not import."""
    try:
        importlib.import_module(settings.ROOT_URLCONF)
    except ImportError:
        settings.ROOT_URLCONF = "tests.moderation.urls"


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
