"""The Discourse endpoint, driven by payload fixtures signed here like Discourse signs them."""
import json
from pathlib import Path

import pytest
from django.test import Client

from forum_helper.intake.drain import intake_drain
from forum_helper.intake.models import AuthorRole, Delivery, ForumSource, Post, PostVersion, Thread
from tests.intake.conftest import (
    DISCOURSE_SECRET,
    FIXTURES,
    discourse_headers,
    discourse_sign,
    fixture_bytes,
    fixture_json,
)

URL = "/webhooks/discourse/glow/"
pytestmark = pytest.mark.django_db


def deliver(client: Client, name: str, *, event_id: str = "1", content_type: str = "application/json", body: bytes | None = None):
    """Post a fixture, then run the drain as a worker would (the request only queues it)."""
    body = fixture_bytes("discourse", name) if body is None else body
    event = name.split("__")[0]
    response = client.post(URL, data=body, content_type=content_type, headers=discourse_headers(body, event, event_id=event_id))
    intake_drain()
    return response


def post_and_drain(client: Client, url: str, body: bytes, headers: dict[str, str]):
    response = client.post(url, data=body, content_type="application/json", headers=headers)
    intake_drain()
    return response


def assert_nothing_stored() -> None:
    assert (Thread.objects.count(), Post.objects.count(), PostVersion.objects.count()) == (0, 0, 0)


# Every fixture, replayed: (status, outcome after the drain, stored posts, stored threads).
EXPECTED = {
    "ping__ok.json": (200, Delivery.Outcome.IGNORED, 0, 0),
    "post_created__opener.json": (202, Delivery.Outcome.ACCEPTED, 1, 1),
    "post_created__member_reply.json": (202, Delivery.Outcome.ACCEPTED, 1, 1),
    "post_created__staff_reply.json": (202, Delivery.Outcome.ACCEPTED, 1, 1),
    "post_edited__opener_v2.json": (202, Delivery.Outcome.ACCEPTED, 1, 1),
    "post_recovered__opener.json": (202, Delivery.Outcome.ACCEPTED, 1, 1),
    "topic_created__basic.json": (202, Delivery.Outcome.ACCEPTED, 0, 1),
    "user_created__basic.json": (202, Delivery.Outcome.IGNORED, 0, 0),
}


def test_every_discourse_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in (FIXTURES / "discourse").glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_discourse_fixture_is_answered_and_logged_as_expected(client: Client, discourse_source: ForumSource, name: str) -> None:
    status, outcome, posts, threads = EXPECTED[name]

    response = deliver(client, name, event_id="42")

    assert response.status_code == status, response.json()
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.status_code, delivery.event, delivery.event_id) == (outcome, status, name.split("__")[0], "42")
    assert delivery.source == discourse_source
    assert (Post.objects.count(), Thread.objects.count()) == (posts, threads)


def test_discourse_test_vector_ping_is_answered_200_through_the_endpoint(client: Client, discourse_source: ForumSource) -> None:
    body = b'{"ping":"OK"}'
    response = client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={
            "X-Discourse-Event": "ping",
            "X-Discourse-Event-Type": "ping",
            "X-Discourse-Instance": "https://forum.example",
            "X-Discourse-Event-Signature": "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_signed_post_created_stores_the_post_its_version_and_a_delivery(client: Client, discourse_source: ForumSource) -> None:
    response = deliver(client, "post_created__opener.json")

    assert response.status_code == 202
    post = Post.objects.get()
    version = PostVersion.objects.get()
    assert response.json() == {"status": "queued", "delivery_id": Delivery.objects.get().pk}
    assert Delivery.objects.get().outcome == "accepted"
    assert (post.external_id, post.author_name, post.author_external_id, post.author_role) == ("1201", "mira_k", "88", AuthorRole.MEMBER)
    assert (post.position, post.reply_to_position, post.parent, post.trust_level, post.current_version) == (1, None, None, 1, 1)
    assert post.created_at.isoformat() == "2024-05-02T09:14:03.512000+00:00"
    assert post.edited_at is None
    assert post.thread.title == "Stubborn patch on cheek"
    assert post.thread.external_id == "311"
    assert post.thread.url == "https://forum.example/t/stubborn-patch-on-cheek/311"
    assert (version.version, version.raw_text) == (1, "I've had a stubborn patch on my cheek for weeks.")
    assert version.html == "<p>I've had a stubborn patch on my cheek for weeks.</p>"
    assert Delivery.objects.get().post_version == version


def test_a_staff_reply_is_stored_with_staff_role_title_position_and_parent(client: Client, discourse_source: ForumSource) -> None:
    deliver(client, "post_created__opener.json")
    deliver(client, "post_created__member_reply.json")
    response = deliver(client, "post_created__staff_reply.json")

    assert response.status_code == 202
    staff = Post.objects.get(external_id="1203")
    assert (staff.author_role, staff.author_title, staff.trust_level) == (AuthorRole.STAFF, "Board-certified dermatologist", 4)
    assert (staff.position, staff.reply_to_position, staff.parent.external_id) == (3, 2, "1202")
    assert Post.objects.get(external_id="1202").parent.external_id == "1201"
    assert Thread.objects.count() == 1


def test_a_redelivery_with_a_new_event_id_is_a_duplicate_and_stores_nothing_new(
    client: Client, discourse_source: ForumSource, screenings_published
) -> None:
    deliver(client, "post_created__opener.json", event_id="100")
    response = deliver(client, "post_created__opener.json", event_id="101")

    assert response.status_code == 202
    assert (Post.objects.count(), PostVersion.objects.count()) == (1, 1)
    assert list(Delivery.objects.order_by("pk").values_list("event_id", "outcome")) == [
        ("100", "accepted"),
        ("101", "duplicate"),
    ]
    assert screenings_published == [[PostVersion.objects.get().pk]]  # no second screening


def test_post_recovered_of_a_stored_version_is_a_duplicate(client: Client, discourse_source: ForumSource) -> None:
    deliver(client, "post_created__opener.json")
    deliver(client, "post_recovered__opener.json")
    assert Delivery.objects.order_by("pk").last().outcome == "duplicate"
    assert PostVersion.objects.count() == 1


def test_post_edited_adds_version_two_which_becomes_current_and_is_enqueued_for_screening(
    client: Client, discourse_source: ForumSource, screenings_published
) -> None:
    deliver(client, "post_created__opener.json")
    response = deliver(client, "post_edited__opener_v2.json", event_id="2")

    assert response.status_code == 202
    post = Post.objects.get()
    assert post.current_version == 2
    v2 = post.latest_version
    assert (v2.version, v2.edit_reason) == (2, "added details")
    assert v2.raw_text.endswith("It's scaly and sometimes bleeds.")
    assert v2.edited_at.isoformat() == "2024-05-02T12:45:10.004000+00:00"
    assert post.versions.count() == 2
    assert screenings_published[-1] == [v2.pk]


def test_post_edited_is_screened_eagerly_into_a_finding_for_version_two(
    client: Client, discourse_source: ForumSource, django_capture_on_commit_callbacks
) -> None:
    from forum_helper.screening.models import Finding

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "post_created__opener.json")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "post_edited__opener_v2.json", event_id="2")

    post = Post.objects.get()
    v2 = post.latest_version
    assert (post.current_version, v2.version) == (2, 2)
    assert Finding.objects.filter(post_version=v2).count() == 1
    assert Finding.objects.filter(post_version__post=post).count() == 2  # v1 was screened when it arrived


def test_topic_created_creates_the_thread_with_its_title_and_no_post(client: Client, discourse_source: ForumSource) -> None:
    response = deliver(client, "topic_created__basic.json")

    assert response.status_code == 202
    thread = Thread.objects.get()
    assert (thread.external_id, thread.title, thread.url) == ("311", "Stubborn patch on cheek", "https://forum.example/t/stubborn-patch-on-cheek/311")
    assert thread.created_at.isoformat() == "2024-05-02T09:14:03.401000+00:00"
    assert Post.objects.count() == 0


def test_topic_created_after_the_opener_renames_the_thread(client: Client, discourse_source: ForumSource) -> None:
    deliver(client, "post_created__opener.json")
    payload = fixture_json("discourse", "topic_created__basic.json")
    payload["topic"]["title"] = "Stubborn scaly patch on cheek"
    deliver(client, "topic_created__basic.json", body=json.dumps(payload).encode())
    assert Thread.objects.get().title == "Stubborn scaly patch on cheek"


def test_a_form_encoded_content_type_with_a_json_body_is_accepted(client: Client, discourse_source: ForumSource) -> None:
    response = deliver(client, "post_created__opener.json", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202
    assert Post.objects.count() == 1


def test_a_tampered_body_is_rejected_with_401_and_nothing_stored(
    client: Client, discourse_source: ForumSource, django_capture_on_commit_callbacks
) -> None:
    body = fixture_bytes("discourse", "post_created__opener.json")
    headers = discourse_headers(body, "post_created")
    tampered = body.replace(b"stubborn patch", b"stubborn match")

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(URL, data=tampered, content_type="application/json", headers=headers)

    assert response.status_code == 401
    assert "does not match" in response.json()["message"]
    assert_nothing_stored()
    assert callbacks == []
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.status_code) == ("rejected", 401)
    assert delivery.headers["x-discourse-event-signature"] == "[redacted]"


def test_a_missing_signature_is_rejected_with_401_when_the_source_has_a_secret(
    client: Client, discourse_source: ForumSource
) -> None:
    body = fixture_bytes("discourse", "post_created__opener.json")
    response = client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, "post_created", secret=None))
    assert response.status_code == 401
    assert "missing" in response.json()["message"]
    assert_nothing_stored()


def test_a_signature_under_a_rotated_secret_is_accepted(client: Client, discourse_source: ForumSource) -> None:
    discourse_source.secrets = ["a-brand-new-secret-42", DISCOURSE_SECRET]
    discourse_source.save()
    body = fixture_bytes("discourse", "post_created__opener.json")
    response = client.post(
        URL, data=body, content_type="application/json",
        headers=discourse_headers(body, "post_created", secret="a-brand-new-secret-42"),
    )
    assert response.status_code == 202


def test_a_source_without_secrets_accepts_unsigned_deliveries(client: Client, db: None) -> None:
    ForumSource.objects.create(slug="open", kind=ForumSource.Kind.DISCOURSE)
    body = fixture_bytes("discourse", "post_created__opener.json")
    response = post_and_drain(client, "/webhooks/discourse/open/", body, {"X-Discourse-Event": "post_created"})
    assert response.status_code == 202
    assert Post.objects.count() == 1


def test_a_delivery_from_another_discourse_instance_is_rejected_with_403(client: Client, discourse_source: ForumSource) -> None:
    body = fixture_bytes("discourse", "post_created__opener.json")
    headers = discourse_headers(body, "post_created")
    headers["X-Discourse-Instance"] = "https://evil.example"
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert response.json() == {
        "message": "X-Discourse-Instance is not the forum configured for this source.",
        "extra": {"received": "https://evil.example"},
    }
    assert_nothing_stored()


def test_the_instance_comparison_ignores_a_trailing_slash_and_case(client: Client, discourse_source: ForumSource) -> None:
    body = fixture_bytes("discourse", "post_created__opener.json")
    headers = discourse_headers(body, "post_created")
    headers["X-Discourse-Instance"] = "https://Forum.example/"
    assert client.post(URL, data=body, content_type="application/json", headers=headers).status_code == 202


def test_the_delivery_log_keeps_headers_without_secrets_and_the_body_hash(client: Client, discourse_source: ForumSource) -> None:
    body = fixture_bytes("discourse", "post_created__opener.json")
    headers = {**discourse_headers(body, "post_created"), "Authorization": "Bearer abc", "Cookie": "sessionid=x"}
    client.post(URL, data=body, content_type="application/json", headers=headers)

    delivery = Delivery.objects.get()
    assert delivery.headers["x-discourse-event-signature"] == "[redacted]"
    assert delivery.headers["authorization"] == "[redacted]"
    assert delivery.headers["cookie"] == "[redacted]"
    assert delivery.headers["x-discourse-event"] == "post_created"
    assert DISCOURSE_SECRET not in json.dumps(delivery.headers)
    assert discourse_sign(body)[7:] not in json.dumps(delivery.headers)
    assert delivery.body_size == len(body)
    import hashlib

    assert delivery.body_sha256 == hashlib.sha256(body).hexdigest()


def test_a_delivery_is_processed_in_the_request_on_the_embedded_default(
    client: Client, discourse_source: ForumSource, django_capture_on_commit_callbacks, settings
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker: the drain runs in-process right after the INSERT
    body = fixture_bytes("discourse", "post_created__opener.json")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, "post_created"))

    assert response.status_code == 202
    assert Delivery.objects.get().outcome == "accepted"
    assert Post.objects.get().latest_version.raw_text.startswith("I've had a stubborn patch")


def test_queued_deliveries_wait_for_the_drain_command_and_are_then_stored_in_order(
    client: Client, discourse_source: ForumSource
) -> None:
    from io import StringIO

    from django.core.management import call_command

    for name in ("post_created__opener.json", "post_created__member_reply.json", "post_edited__opener_v2.json"):
        body = fixture_bytes("discourse", name)
        client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, name.split("__")[0]))
    assert list(Delivery.objects.values_list("outcome", flat=True)) == ["queued"] * 3
    assert Post.objects.count() == 0

    out = StringIO()
    call_command("intake_drain", stdout=out)

    assert out.getvalue().startswith("3 deliveries processed; 0 failed")
    assert list(Delivery.objects.order_by("pk").values_list("outcome", flat=True)) == ["accepted"] * 3
    assert Post.objects.get(external_id="1202").parent.external_id == "1201"
    assert Post.objects.get(external_id="1201").current_version == 2


def test_a_delivery_that_fails_in_the_drain_is_kept_as_failed_and_can_be_retried(
    client: Client, discourse_source: ForumSource, monkeypatch
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from forum_helper.intake import payloads

    body = fixture_bytes("discourse", "post_created__opener.json")
    client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, "post_created"))
    real_parse = payloads.discourse_post_parse

    def broken_parse(**kwargs):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(payloads, "discourse_post_parse", broken_parse)  # a fault injected in the worker only
    call_command("intake_drain", stdout=StringIO())

    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.error, bytes(delivery.body)) == ("failed", "RuntimeError: parser bug", body)
    assert Post.objects.count() == 0

    monkeypatch.setattr(payloads, "discourse_post_parse", real_parse)
    out = StringIO()
    call_command("intake_drain", "--retry-failed", stdout=out)

    assert out.getvalue().startswith("1 deliveries processed; 0 failed")
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.post_version.post.external_id) == ("accepted", "1201")


def test_a_delivery_the_database_refuses_is_failed_alone_and_the_rest_of_its_batch_is_stored(
    client: Client, discourse_source: ForumSource, monkeypatch
) -> None:
    from django.db import DataError

    from forum_helper.intake import services

    names = ("post_created__opener.json", "post_created__member_reply.json", "post_created__staff_reply.json")
    for name in names:
        body = fixture_bytes("discourse", name)
        client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, "post_created"))
    refused_text = fixture_json("discourse", "post_created__opener.json")["post"]["raw"]
    real_sha256 = services.text_sha256

    def refuse_the_first_post(text: str) -> str:
        # Reached after the post (and its thread) is written, alone or with the batch's other new posts.
        if text == refused_text:
            raise DataError("value too long for type character varying(255)")
        return real_sha256(text)

    monkeypatch.setattr(services, "text_sha256", refuse_the_first_post)
    assert intake_drain() == 3

    outcomes = dict(Delivery.objects.values_list("pk", "outcome"))
    first = Delivery.objects.order_by("pk").first()
    assert (first.outcome, first.error) == ("failed", "DataError: value too long for type character varying(255)")
    assert sorted(outcomes.values()) == ["accepted", "accepted", "failed"]
    assert sorted(Post.objects.values_list("external_id", flat=True)) == ["1202", "1203"]  # 1201's writes undone
    # The thread 1201 created was undone with it; the replies created it again, not reused it.
    assert Thread.objects.get().pk == Post.objects.get(external_id="1202").thread_id


def test_one_drain_batch_publishes_one_screening_task_for_all_its_posts(
    client: Client, discourse_source: ForumSource, screenings_published
) -> None:
    from forum_helper.screening.models import Finding

    for name in ("post_created__opener.json", "post_created__member_reply.json", "post_created__staff_reply.json"):
        body = fixture_bytes("discourse", name)
        client.post(URL, data=body, content_type="application/json", headers=discourse_headers(body, "post_created"))

    assert intake_drain() == 3

    versions = list(PostVersion.objects.order_by("pk").values_list("pk", flat=True))
    assert screenings_published == [versions]
    assert set(Finding.objects.values_list("post_version_id", flat=True)) == set(versions)  # the task ran (eagerly)
