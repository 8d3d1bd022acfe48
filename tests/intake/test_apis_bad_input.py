"""Bad deliveries to both endpoints: always a 4xx with {"message", "extra"}, a rejected
delivery row, and nothing else stored or enqueued."""
import json
import time

import pytest
from django.test import Client

from forum_helper.intake.models import Delivery, ForumSource, Post, PostVersion, Thread
from tests.intake.conftest import discourse_headers, fixture_json, standard_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def sources(discourse_source: ForumSource, standard_source: ForumSource) -> None:
    return None


def post_signed(client: Client, endpoint: str, body: bytes, *, event: str = "post_created", content_type: str = "application/json", **extra):
    if endpoint == "discourse":
        headers = discourse_headers(body, event)
        url = "/webhooks/discourse/glow/"
    else:
        headers = standard_headers(body, msg_id="msg_bad", timestamp=int(time.time()))
        url = "/webhooks/standard/skinhub/"
    return client.post(url, data=body, content_type=content_type, headers=headers, **extra)


def valid_payload(endpoint: str) -> dict:
    if endpoint == "discourse":
        return fixture_json("discourse", "post_created__opener.json")
    return fixture_json("standard", "post.created__member.json")


def assert_rejected(response, status: int, django_callbacks: list) -> dict:
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) == {"message", "extra"}
    assert data["message"]
    assert (Thread.objects.count(), Post.objects.count(), PostVersion.objects.count()) == (0, 0, 0)
    assert django_callbacks == []
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.status_code, delivery.error) == ("rejected", status, data["message"])
    return data


def _without(payload: dict, *path: str) -> dict:
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


def _with(payload: dict, value, *path: str) -> dict:
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


BODIES = {
    "malformed-json": lambda endpoint: b'{"post": {"id": 1,',
    "invalid-utf8": lambda endpoint: b'{"post": "\xff\xfe"}',
    "utf16-json": lambda endpoint: json.dumps(valid_payload(endpoint)).encode("utf-16"),
    "json-array": lambda endpoint: b"[1, 2, 3]",
    "empty-body": lambda endpoint: b"",
    "nul-in-text": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), "a\u0000b", *(("post", "raw") if endpoint == "discourse" else ("data", "post", "text")))
    ).encode(),
    "lone-surrogate": lambda endpoint: (
        b'{"post": {"id": 1, "topic_id": 2, "raw": "\\ud800"}}'
        if endpoint == "discourse"
        else b'{"type": "post.created", "data": {"thread": {"id": 1, "title": "\\udfff"}, "post": {"id": 1, "text": "x"}, "author": {"name": "a"}}}'
    ),
    "deeply-nested": lambda endpoint: b"[" * 100_000 + b"]" * 100_000,
    "huge-integer": lambda endpoint: b'{"post": ' + b"9" * 5000 + b"}",
    "missing-post-id": lambda endpoint: json.dumps(
        _without(valid_payload(endpoint), *(("post", "id") if endpoint == "discourse" else ("data", "post", "id")))
    ).encode(),
    "missing-text": lambda endpoint: json.dumps(
        _without(valid_payload(endpoint), *(("post", "raw") if endpoint == "discourse" else ("data", "post", "text")))
    ).encode(),
    "text-is-a-number": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), 12, *(("post", "raw") if endpoint == "discourse" else ("data", "post", "text")))
    ).encode(),
    "id-is-a-list": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), [1], *(("post", "id") if endpoint == "discourse" else ("data", "post", "id")))
    ).encode(),
    "id-too-long": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), "x" * 129, *(("post", "id") if endpoint == "discourse" else ("data", "post", "id")))
    ).encode(),
    "position-too-large": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), 2**40, *(("post", "post_number") if endpoint == "discourse" else ("data", "post", "position")))
    ).encode(),
    "version-zero": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), 0, *(("post", "version") if endpoint == "discourse" else ("data", "post", "version")))
    ).encode(),
    "bad-datetime": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), "yesterday", *(("post", "created_at") if endpoint == "discourse" else ("data", "post", "created_at")))
    ).encode(),
    "post-is-a-string": lambda endpoint: json.dumps(
        _with(valid_payload(endpoint), "hello", *(("post",) if endpoint == "discourse" else ("data", "post")))
    ).encode(),
}


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
@pytest.mark.parametrize("case", sorted(BODIES))
def test_a_bad_body_is_rejected_with_400_a_message_and_nothing_stored(
    client: Client, sources: None, django_capture_on_commit_callbacks, endpoint: str, case: str
) -> None:
    body = BODIES[case](endpoint)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_signed(client, endpoint, body)
    assert_rejected(response, 400, callbacks)


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
def test_field_errors_name_the_fields_to_fix(client: Client, sources: None, endpoint: str) -> None:
    response = post_signed(client, endpoint, BODIES["missing-text"](endpoint))
    fields = response.json()["extra"]["fields"]
    if endpoint == "discourse":
        assert fields == {"post": {"raw": ["This field is required."]}}
    else:
        assert fields == {"data": {"post": {"text": ["This field is required."]}}}


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
def test_a_body_declared_over_the_limit_is_rejected_with_413_before_reading(
    client: Client, sources: None, django_capture_on_commit_callbacks, endpoint: str, settings
) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = json.dumps(valid_payload(endpoint)).encode()
    body = body[:-1] + b', "pad": "' + b"x" * 2000 + b'"}'
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_signed(client, endpoint, body)
    data = assert_rejected(response, 413, callbacks)
    assert data["extra"] == {"max_bytes": 1000}
    delivery = Delivery.objects.get()
    assert (delivery.body_size, delivery.body_sha256) == (len(body), "")


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
def test_a_body_over_one_mebibyte_is_rejected_with_413(client: Client, sources: None, django_capture_on_commit_callbacks, endpoint: str) -> None:
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_signed(client, endpoint, body)
    assert_rejected(response, 413, callbacks)


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
def test_a_body_longer_than_its_content_length_claims_is_checked_after_reading(
    client: Client, sources: None, endpoint: str, settings
) -> None:
    # Django reads at most Content-Length bytes; a lying header yields a truncated body, which
    # then fails the signature or the JSON check instead of being stored.
    body = json.dumps(valid_payload(endpoint)).encode()
    response = post_signed(client, endpoint, body, CONTENT_LENGTH="10")
    assert response.status_code in (400, 401)
    assert Post.objects.count() == 0


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
def test_a_non_numeric_content_length_is_rejected_with_400(client: Client, sources: None, endpoint: str) -> None:
    response = post_signed(client, endpoint, b"{}", CONTENT_LENGTH="12abc")
    assert response.status_code == 400
    assert "Content-Length" in response.json()["message"]


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
def test_an_unknown_source_slug_is_answered_404_and_logged(client: Client, db: None, endpoint: str) -> None:
    response = client.post(f"/webhooks/{endpoint}/nope/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert "add_forum_source" in response.json()["message"]
    delivery = Delivery.objects.get()
    assert (delivery.source, delivery.source_slug, delivery.outcome, delivery.status_code) == (None, "nope", "rejected", 404)


@pytest.mark.parametrize(("endpoint", "slug"), [("discourse", "skinhub"), ("standard", "glow")])
def test_a_source_of_the_other_kind_is_answered_404_with_the_right_url(client: Client, sources: None, endpoint: str, slug: str) -> None:
    response = client.post(f"/webhooks/{endpoint}/{slug}/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert f"/webhooks/{'standard' if endpoint == 'discourse' else 'discourse'}/{slug}/" in response.json()["message"]
    assert Post.objects.count() == 0


@pytest.mark.parametrize("endpoint", ["discourse", "standard"])
@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_a_wrong_method_is_answered_405_with_a_message(client: Client, sources: None, endpoint: str, method: str) -> None:
    slug = "glow" if endpoint == "discourse" else "skinhub"
    response = getattr(client, method)(f"/webhooks/{endpoint}/{slug}/")
    assert response.status_code == 405
    assert set(response.json()) == {"message", "extra"}


def test_a_discourse_delivery_without_an_event_header_is_rejected(client: Client, sources: None) -> None:
    body = json.dumps(valid_payload("discourse")).encode()
    headers = discourse_headers(body, "post_created")
    del headers["X-Discourse-Event"]
    response = client.post("/webhooks/discourse/glow/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert "X-Discourse-Event" in response.json()["message"]
    assert Post.objects.count() == 0


def test_a_standard_envelope_without_a_type_is_rejected(client: Client, sources: None) -> None:
    response = post_signed(client, "standard", json.dumps(_without(valid_payload("standard"), "type")).encode())
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"type": ["This field is required."]}


def test_a_standard_author_role_outside_the_choices_is_rejected(client: Client, sources: None) -> None:
    response = post_signed(client, "standard", json.dumps(_with(valid_payload("standard"), "god", "data", "author", "role")).encode())
    assert response.status_code == 400
    assert "role" in response.json()["extra"]["fields"]["data"]["author"]


def test_an_accept_header_asking_for_html_still_gets_json(client: Client, sources: None) -> None:
    response = post_signed(client, "discourse", b"{", HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
