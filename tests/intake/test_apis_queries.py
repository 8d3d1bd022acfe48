"""How much database work one Discourse delivery costs: a ceiling, so a regression shows up here.

The request itself does the least a verified receiver can: read the source, INSERT the delivery.
The drain does the rest later, in a worker.
"""
import pytest
from django.test import Client

from forum_helper.intake.drain import intake_drain
from forum_helper.intake.models import Delivery, ForumSource, Post, PostVersion, Thread
from tests.intake.conftest import discourse_headers, fixture_bytes

URL = "/webhooks/discourse/glow/"
pytestmark = pytest.mark.django_db

REQUEST_MAX_QUERIES = 2  # source lookup; INSERT delivery
# BEGIN; claim (FOR UPDATE SKIP LOCKED); which of the batch's posts exist; its threads; SAVEPOINT;
# INSERT thread, posts, versions; RELEASE; UPDATE the deliveries; COMMIT; and the empty claim
# that ends the drain (+ its BEGIN/COMMIT). A duplicate also locks its stored post.
DRAIN_NEW_POST_MAX_QUERIES = 11
DRAIN_DUPLICATE_MAX_QUERIES = 10
DRAIN_EDIT_MAX_QUERIES = 12  # the duplicate's, plus INSERT version and UPDATE post


@pytest.fixture(autouse=True)
def screening_left_to_a_worker(monkeypatch) -> None:
    """Tests run tasks eagerly; here the screening task is only published, as to a real broker,
    so the ceilings count the intake's own queries."""
    from forum_helper.screening import services

    monkeypatch.setattr(services, "task_publish", lambda task, *args: True)


def deliver(client: Client, name: str):
    body = fixture_bytes("discourse", name)
    return client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, name.split("__")[0]))


def test_a_post_delivery_costs_the_request_two_queries_and_is_answered_202_queued(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(REQUEST_MAX_QUERIES):
        response = deliver(client, "post_created__opener.json")

    assert response.status_code == 202
    delivery = Delivery.objects.get()
    assert response.json() == {"status": "queued", "delivery_id": delivery.pk}
    assert (delivery.outcome, delivery.status_code, bytes(delivery.body)) == (
        "queued", 202, fixture_bytes("discourse", "post_created__opener.json")
    )
    assert Post.objects.count() == 0  # stored by the drain, not by the request


def test_the_drain_stores_a_new_post_within_its_query_ceiling(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    deliver(client, "post_created__opener.json")

    with django_assert_max_num_queries(DRAIN_NEW_POST_MAX_QUERIES):
        assert intake_drain() == 1

    assert (Thread.objects.count(), Post.objects.count(), PostVersion.objects.count()) == (1, 1, 1)
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.post_version, bytes(delivery.body)) == ("accepted", PostVersion.objects.get(), b"")
    assert delivery.processed_at is not None


def test_a_duplicate_delivery_costs_the_drain_fewer_queries_and_writes_only_its_log_row(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    deliver(client, "post_created__opener.json")
    intake_drain()
    deliver(client, "post_created__opener.json")

    with django_assert_max_num_queries(DRAIN_DUPLICATE_MAX_QUERIES):
        intake_drain()

    assert list(Delivery.objects.order_by("pk").values_list("outcome", flat=True)) == ["accepted", "duplicate"]
    assert (Post.objects.count(), PostVersion.objects.count(), Delivery.objects.count()) == (1, 1, 2)


def test_an_edit_of_a_stored_post_stays_within_its_ceiling(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    deliver(client, "post_created__opener.json")
    intake_drain()
    deliver(client, "post_edited__opener_v2.json")

    with django_assert_max_num_queries(DRAIN_EDIT_MAX_QUERIES):
        intake_drain()

    assert Delivery.objects.order_by("pk").last().outcome == "accepted"
    post = Post.objects.get()
    assert (post.current_version, PostVersion.objects.count()) == (2, 2)


def test_a_batch_of_new_posts_costs_the_drain_what_one_new_post_costs(
    client: Client, discourse_source: ForumSource, django_assert_max_num_queries
) -> None:
    import json

    opener = json.loads(fixture_bytes("discourse", "post_created__opener.json"))
    for number in range(1, 11):
        opener["post"].update(id=5000 + number, post_number=number)
        body = json.dumps(opener).encode()
        client.post(URL, data=body, content_type="application/json",
                    headers=discourse_headers(body, "post_created", event_id=str(number)))

    with django_assert_max_num_queries(DRAIN_NEW_POST_MAX_QUERIES):  # consecutive new posts are stored together
        assert intake_drain() == 10

    assert (Thread.objects.count(), Post.objects.count(), PostVersion.objects.count()) == (1, 10, 10)
    assert set(Delivery.objects.values_list("outcome", flat=True)) == {"accepted"}
