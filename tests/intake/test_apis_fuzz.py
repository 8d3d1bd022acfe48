"""Random bodies and headers, signed or not: the endpoints answer, never with a 5xx.

The Django test client re-raises exceptions from views, so an unhandled error fails here too.
"""
import json
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum_helper.intake.models import ForumSource
from tests.intake.conftest import discourse_sign, fixture_bytes, standard_sign

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
FIELD_NAMES = ["post", "topic", "ping", "id", "topic_id", "raw", "cooked", "version", "post_number", "type", "data",
               "thread", "author", "text", "title", "name", "role", "created_at", "reply_to_post_number", "trust_level"]


def _mutated(fixture: bytes) -> st.SearchStrategy[bytes]:
    """A valid payload with one field set to a random value, somewhere in its tree."""
    def mutate(path_choices: list[int], key: str, value: object) -> bytes:
        payload = json.loads(fixture)
        target = payload
        for choice in path_choices:
            dicts = [k for k, v in target.items() if isinstance(v, dict)]
            if not dicts:
                break
            target = target[dicts[choice % len(dicts)]]
        target[key] = value
        return json.dumps(payload).encode()

    return st.builds(mutate, st.lists(st.integers(0, 5), max_size=3), st.sampled_from(FIELD_NAMES), json_values)


def bodies(fixture: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        st.builds(lambda v: json.dumps(v).encode(), json_values),
        st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=4)),
        _mutated(fixture),
    )


header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=60)
CONTENT_TYPES = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", ""])
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(
    body=bodies(fixture_bytes("discourse", "post_created__member_reply.json")),
    event=st.sampled_from(["post_created", "post_edited", "post_recovered", "topic_created", "ping", "user_created", ""]) | header_text,
    signed=st.booleans(),
    content_type=CONTENT_TYPES,
    extra_headers=st.dictionaries(
        st.sampled_from(["X-Discourse-Instance", "X-Discourse-Event-Id", "X-Discourse-Event-Signature", "Accept", "Authorization"]),
        header_text,
        max_size=3,
    ),
)
def test_random_discourse_deliveries_never_get_a_5xx(
    discourse_source: ForumSource, body: bytes, event: str, signed: bool, content_type: str, extra_headers: dict[str, str]
) -> None:
    headers = {**extra_headers, "X-Discourse-Event": event}
    if signed:
        headers["X-Discourse-Event-Signature"] = discourse_sign(body)
        headers["X-Discourse-Instance"] = "https://forum.example"
    response = Client().post("/webhooks/discourse/glow/", data=body, content_type=content_type, headers=headers)
    assert response.status_code < 500
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        assert response.json()["message"]


@FUZZ
@given(
    body=bodies(fixture_bytes("standard", "post.created__member.json")),
    msg_id=st.sampled_from(["msg_1", "msg_2"]) | header_text,
    skew=st.integers(-1000, 1000),
    signed=st.booleans(),
    content_type=CONTENT_TYPES,
    extra_headers=st.dictionaries(st.sampled_from(["webhook-signature", "webhook-timestamp", "Accept", "Cookie"]), header_text, max_size=3),
)
def test_random_standard_deliveries_never_get_a_5xx(
    standard_source: ForumSource, body: bytes, msg_id: str, skew: int, signed: bool, content_type: str, extra_headers: dict[str, str]
) -> None:
    timestamp = int(time.time()) + skew
    headers = {**extra_headers, "webhook-id": msg_id}
    if signed:
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = standard_sign(body, msg_id=msg_id, timestamp=timestamp)
    response = Client().post("/webhooks/standard/skinhub/", data=body, content_type=content_type, headers=headers)
    assert response.status_code < 500
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        assert response.json()["message"]
