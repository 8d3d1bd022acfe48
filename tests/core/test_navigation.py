import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from forum_helper.core.roles import ADMINS, MODERATORS

pytestmark = pytest.mark.django_db


def client_for(group: str) -> Client:
    user = User.objects.create_user(username=f"nav-{group}", password="pw-for-tests-123")
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_a_moderator_sees_queue_dashboard_and_library_but_not_rules() -> None:
    page = client_for(MODERATORS).get("/queue/").content.decode()
    assert 'href="/queue/"' in page and 'href="/library/"' in page
    assert 'href="/rules/"' not in page and 'href="/admin/"' not in page


def test_an_admin_also_sees_rules_and_django_admin() -> None:
    page = client_for(ADMINS).get("/queue/").content.decode()
    assert 'href="/library/"' in page and 'href="/rules/"' in page and 'href="/admin/"' in page


def test_the_login_page_shows_no_navigation() -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="/queue/"' not in page
