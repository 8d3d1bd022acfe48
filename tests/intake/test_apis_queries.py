"""How much database work one Discourse delivery costs: a ceiling, so a regression shows up here."""
import pytest
from django.test import Client

from forum_helper.intake.models import Delivery, ForumSource, Post, PostVersion, Thread
from tests.intake.conftest import discourse_headers, fixture_bytes

URL = "/webhooks/discourse/glow/"
pytestmark = pytest.mark.django_db

# Source lookup; BEGIN; post (locked); thread; INSERT thread, post, version, delivery; COMMIT.
# (Inside a test's transaction BEGIN/COMMIT are a SAVEPOINT and its RELEASE: the same count.)
ACCEPTED_NEW_POST_MAX_QUERIES = 9
DUPLICATE_MAX_QUERIES = 6


def deliver(client: Client, name: str):
    body = fixture_bytes("discourse", name)
    return client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, name.split("__")[0]))


def test_an_accepted_discourse_post_costs_at_most_nine_queries(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(ACCEPTED_NEW_POST_MAX_QUERIES):
        response = deliver(client, "post_created__opener.json")

    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert (Thread.objects.count(), Post.objects.count(), PostVersion.objects.count()) == (1, 1, 1)
    assert Delivery.objects.get().post_version == PostVersion.objects.get()


def test_a_duplicate_delivery_costs_fewer_queries_and_writes_only_its_log_row(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    deliver(client, "post_created__opener.json")

    with django_assert_max_num_queries(DUPLICATE_MAX_QUERIES):
        response = deliver(client, "post_created__opener.json")

    assert response.json()["status"] == "duplicate"
    assert (Post.objects.count(), PostVersion.objects.count(), Delivery.objects.count()) == (1, 1, 2)


def test_an_edit_of_a_stored_post_costs_at_most_nine_queries(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    deliver(client, "post_created__opener.json")

    with django_assert_max_num_queries(ACCEPTED_NEW_POST_MAX_QUERIES):
        response = deliver(client, "post_edited__opener_v2.json")

    assert response.json()["status"] == "accepted"
    post = Post.objects.get()
    assert (post.current_version, PostVersion.objects.count()) == (2, 2)
