"""The Standard Webhooks endpoint, driven by envelope fixtures signed here."""
import json
import time

import pytest
from django.test import Client

from forum_helper.intake.drain import intake_drain
from forum_helper.intake.models import AuthorRole, Delivery, ForumSource, Post, PostVersion, Thread
from tests.intake.conftest import FIXTURES, STANDARD_SECRET, fixture_bytes, standard_headers, standard_sign

URL = "/webhooks/standard/skinhub/"
pytestmark = pytest.mark.django_db


def deliver(client: Client, name: str | None = None, *, msg_id: str = "msg_1", timestamp: int | None = None, body: bytes | None = None):
    body = fixture_bytes("standard", name) if body is None else body
    timestamp = int(time.time()) if timestamp is None else timestamp
    response = client.post(URL, data=body, content_type="application/json", headers=standard_headers(body, msg_id=msg_id, timestamp=timestamp))
    intake_drain()  # as a worker would: the request only queues the delivery
    return response


def assert_nothing_stored() -> None:
    assert (Thread.objects.count(), Post.objects.count(), PostVersion.objects.count()) == (0, 0, 0)


EXPECTED = {
    "post.created__member.json": (202, Delivery.Outcome.ACCEPTED, 1),
    "post.created__staff_reply_minimal.json": (202, Delivery.Outcome.ACCEPTED, 1),
    "post.edited__v2.json": (202, Delivery.Outcome.ACCEPTED, 1),
    "thread.locked__basic.json": (202, Delivery.Outcome.IGNORED, 0),
}


def test_every_standard_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in (FIXTURES / "standard").glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_standard_fixture_is_answered_and_logged_as_expected(client: Client, standard_source: ForumSource, name: str) -> None:
    status, outcome, posts = EXPECTED[name]

    response = deliver(client, name, msg_id="msg_fixture")

    assert response.status_code == status, response.json()
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.status_code, delivery.event, delivery.message_id) == (
        outcome, status, name.split("__")[0], "msg_fixture",
    )
    assert Post.objects.count() == posts


def test_a_signed_post_created_is_stored_with_its_thread_author_and_version(client: Client, standard_source: ForumSource) -> None:
    response = deliver(client, "post.created__member.json")

    assert response.status_code == 202
    assert response.json() == {"status": "queued", "delivery_id": Delivery.objects.get().pk}
    post = Post.objects.get()
    assert (post.external_id, post.author_name, post.author_external_id, post.author_role, post.trust_level) == (
        "p-501", "lin", "u-5", AuthorRole.MEMBER, 1,
    )
    assert (post.position, post.current_version) == (1, 1)
    assert (post.thread.external_id, post.thread.title, post.thread.url) == ("t-77", "Stinging after acids", "https://skin.example/t/77")
    assert post.latest_version.raw_text.startswith("I mixed 30% glycolic acid")
    assert Delivery.objects.get().post_version == post.latest_version


def test_a_minimal_staff_reply_with_integer_ids_finds_its_parent(client: Client, standard_source: ForumSource) -> None:
    deliver(client, "post.created__member.json", msg_id="msg_1")
    payload = json.loads(fixture_bytes("standard", "post.created__staff_reply_minimal.json"))
    payload["data"]["thread"]["id"] = "t-77"
    deliver(client, body=json.dumps(payload).encode(), msg_id="msg_2")

    reply = Post.objects.get(external_id="502")
    assert (reply.author_role, reply.parent.external_id, reply.position) == (AuthorRole.STAFF, "p-501", 2)


def test_post_edited_adds_version_two_and_makes_it_current(
    client: Client, standard_source: ForumSource, screenings_published
) -> None:
    deliver(client, "post.created__member.json", msg_id="msg_1")
    deliver(client, "post.edited__v2.json", msg_id="msg_2")

    post = Post.objects.get()
    assert post.current_version == 2
    assert (post.latest_version.edit_reason, post.versions.count()) == ("typo", 2)
    assert screenings_published[-1] == [post.latest_version.pk]  # v2 is screened


def test_a_repeated_webhook_id_is_answered_200_duplicate_and_stores_one_post(
    client: Client, standard_source: ForumSource, django_capture_on_commit_callbacks
) -> None:
    deliver(client, "post.created__member.json", msg_id="msg_same")
    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(client, "post.edited__v2.json", msg_id="msg_same")  # even with another body

    assert (response.status_code, response.json()) == (200, {"status": "duplicate"})
    assert (Post.objects.count(), PostVersion.objects.count()) == (1, 1)
    assert list(Delivery.objects.order_by("pk").values_list("outcome", flat=True)) == ["accepted", "duplicate"]
    assert callbacks == []


def test_the_same_post_version_under_a_new_webhook_id_is_a_duplicate(client: Client, standard_source: ForumSource) -> None:
    deliver(client, "post.created__member.json", msg_id="msg_1")
    deliver(client, "post.created__member.json", msg_id="msg_2")
    assert Delivery.objects.order_by("pk").last().outcome == "duplicate"
    assert PostVersion.objects.count() == 1


def test_a_signature_from_either_rotated_secret_is_accepted(client: Client, standard_source: ForumSource) -> None:
    new_secret = "whsec_" + "bmV3LXNlY3JldC1mb3Itcm90YXRpb24tMDE="
    standard_source.secrets = [new_secret, STANDARD_SECRET]
    standard_source.save()
    body = fixture_bytes("standard", "post.created__member.json")
    now = int(time.time())
    old_sig = standard_sign(body, msg_id="msg_r", timestamp=now)
    new_sig = standard_sign(body, msg_id="msg_r", timestamp=now, secret=new_secret)
    response = client.post(
        URL, data=body, content_type="application/json",
        headers={"webhook-id": "msg_r", "webhook-timestamp": str(now), "webhook-signature": f"{new_sig} {old_sig}"},
    )
    assert response.status_code == 202


@pytest.mark.parametrize(("offset", "fragment"), [(-301, "old"), (+301, "future")], ids=["stale", "future"])
def test_stale_and_future_timestamps_are_rejected_with_400_and_nothing_stored(
    client: Client, standard_source: ForumSource, offset: int, fragment: str
) -> None:
    response = deliver(client, "post.created__member.json", timestamp=int(time.time()) + offset)

    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert_nothing_stored()
    assert Delivery.objects.get().outcome == "rejected"


def test_the_tolerance_comes_from_settings(client: Client, standard_source: ForumSource, settings) -> None:
    settings.STANDARD_WEBHOOK_TOLERANCE_SECONDS = 3600
    assert deliver(client, "post.created__member.json", timestamp=int(time.time()) - 1800).status_code == 202


def test_a_tampered_body_is_rejected_with_401_and_nothing_stored(client: Client, standard_source: ForumSource) -> None:
    body = fixture_bytes("standard", "post.created__member.json")
    headers = standard_headers(body, msg_id="msg_t", timestamp=int(time.time()))
    response = client.post(URL, data=body.replace(b"lin", b"lyn"), content_type="application/json", headers=headers)

    assert response.status_code == 401
    assert_nothing_stored()
    delivery = Delivery.objects.get()
    assert delivery.headers["webhook-signature"] == "[redacted]"


@pytest.mark.parametrize(
    ("drop", "status"),
    [("webhook-id", 400), ("webhook-timestamp", 400), ("webhook-signature", 401)],
)
def test_a_missing_standard_header_is_rejected_with_a_message(client: Client, standard_source: ForumSource, drop: str, status: int) -> None:
    body = fixture_bytes("standard", "post.created__member.json")
    headers = standard_headers(body, msg_id="msg_h", timestamp=int(time.time()))
    del headers[drop]
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == status
    assert drop in response.json()["message"]
    assert_nothing_stored()


def test_a_standard_source_without_secrets_rejects_every_delivery(client: Client, db: None) -> None:
    ForumSource.objects.create(slug="skinhub", kind=ForumSource.Kind.STANDARD)
    response = deliver(client, "post.created__member.json")
    assert response.status_code == 401
    assert "no secret" in response.json()["message"]
    assert_nothing_stored()


def test_the_request_schema_is_documented_in_openapi(admin_client: Client) -> None:
    response = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/webhooks/standard/{source_slug}/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    envelope = schema["components"]["schemas"][ref]
    assert set(envelope["required"]) == {"type", "data"}
    assert "/webhooks/discourse/{source_slug}/" in schema["paths"]


def test_an_accepted_post_is_screened_eagerly_into_a_finding(
    client: Client, standard_source: ForumSource, django_capture_on_commit_callbacks
) -> None:
    from forum_helper.screening.models import Finding

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "post.created__member.json")

    assert Finding.objects.filter(post_version=Post.objects.get().latest_version).count() == 1
