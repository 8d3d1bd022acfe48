"""Both webhook endpoints under 1,000+ hostile deliveries each: never a 5xx, every 4xx explains itself.

Bodies are random bytes, random JSON, and real fixture payloads with one field replaced; headers are
random, validly signed, signed with the wrong secret, huge, full of control characters, or carry a
wrong Content-Type / Content-Length. Runs are derandomized so CI replays the same cases.
The Django test client re-raises view exceptions, so an unhandled error fails the test too.
"""
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum_helper.intake.models import ForumSource
from tests.intake.conftest import (
    DISCOURSE_INSTANCE,
    DISCOURSE_SECRET,
    FIXTURES,
    STANDARD_SECRET,
    discourse_sign,
    standard_sign,
)
from tests.reliability.conftest import case_record

pytestmark = pytest.mark.django_db

CASES_PER_TEST = int(__import__("os").environ.get("FUZZ_CASES", "1000"))
FUZZ = settings(
    max_examples=CASES_PER_TEST,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
WRONG_DISCOURSE_SECRET = "not_the_secret_of_this_forum"
WRONG_STANDARD_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="


def _fixtures(endpoint: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((FIXTURES / endpoint).glob("*.json"))]


json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)
FIELD_NAMES = ["post", "topic", "ping", "id", "topic_id", "raw", "cooked", "version", "post_number", "type", "data",
               "thread", "author", "text", "title", "name", "role", "created_at", "reply_to_post_number",
               "trust_level", "position", "url", "timestamp", "username", "user_id", "deleted_at", "hidden"]


def _mutate(fixture: bytes, path_choices: list[int], key: str, value: object, drop: bool) -> bytes:
    """The fixture with one field, somewhere down its tree of objects, replaced or removed."""
    payload = json.loads(fixture)
    target = payload
    for choice in path_choices:
        objects = [k for k, v in target.items() if isinstance(v, dict)]
        if not objects:
            break
        target = target[objects[choice % len(objects)]]
    if drop:
        target.pop(key, None)
    else:
        target[key] = value
    return json.dumps(payload).encode()


def bodies(endpoint: str) -> st.SearchStrategy[bytes]:
    fixtures = _fixtures(endpoint)
    real = st.sampled_from(fixtures)
    return st.one_of(
        st.binary(max_size=400),
        st.builds(lambda v: json.dumps(v).encode(), json_values),
        st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=4)),
        st.builds(_mutate, real, st.lists(st.integers(0, 5), max_size=3), st.sampled_from(FIELD_NAMES), json_values,
                  st.booleans()),
        real,  # unchanged: accepted, then duplicates
        st.builds(lambda f, n: f[:n], real, st.integers(0, 400)),  # truncated JSON
        st.builds(lambda f, prefix: prefix + f, real, st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b" \n"])),
    )


control_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x20), min_size=1, max_size=20)
header_values = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=60),
    control_text,
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "\u00ff", "=", "0"]), st.sampled_from([8_000, 64_000])),  # huge
    st.text(max_size=30),  # any code point, surrogates excluded by the client's encoding anyway
)
header_names = st.text(st.sampled_from("abcxyz-_0123456789"), min_size=1, max_size=20)
CONTENT_TYPES = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "text/plain",
    "multipart/form-data; boundary=x", "multipart/form-data", "application/xml", "", "\x00\x01", "a" * 5000,
])
# Overrides of the client's own CONTENT_LENGTH: none, malformed, shorter than the body, or over the limit. Never
# longer than the body yet under the limit: the test client's FakePayload asserts there, a WSGI server stops reading.
CONTENT_LENGTHS = st.sampled_from([None, None, None, "", "abc", "-1", "half", "1e3", "\u0661\u0662", "99999999999999999999", str(2**20 + 1)])


def _as_wsgi(value: str) -> str:
    """What a WSGI server hands Django for a header sent as UTF-8: its bytes decoded as latin-1."""
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


def _post(client: Client, label: str, url: str, body: bytes, content_type: str, headers: dict[str, str],
          content_length: str | None) -> None:
    if content_length == "half":
        content_length = f" {len(body) // 2}"
    extra = {} if content_length is None else {"CONTENT_LENGTH": content_length}
    headers = {name: _as_wsgi(value) for name, value in headers.items()}
    try:
        response = client.post(url, data=body, content_type=content_type, headers=headers, **extra)
    except Exception:
        case_record(label, 500)
        raise
    case_record(label, response.status_code)
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        message = response.json()["message"]
        assert isinstance(message, str) and message.strip()


SignMode = str
SIGN_MODES = st.sampled_from(["valid", "valid", "wrong_secret", "garbage", "none"])


@pytest.fixture
def client() -> Client:
    return Client()


@FUZZ
@given(
    body=bodies("discourse"),
    event=st.one_of(*[st.sampled_from(["post_created", "post_edited", "post_recovered", "topic_created", "ping"])] * 3,
                    st.sampled_from(["user_created", "", "POST_CREATED", "post_created "]), header_values),
    sign=SIGN_MODES,
    instance=st.one_of(*[st.just(DISCOURSE_INSTANCE)] * 3,
                       st.sampled_from([DISCOURSE_INSTANCE + "/", "https://evil.example", None]), header_values),
    content_type=CONTENT_TYPES,
    content_length=CONTENT_LENGTHS,
    extra_headers=st.dictionaries(
        st.sampled_from(["X-Discourse-Event-Id", "X-Discourse-Event-Type", "Accept", "Authorization", "Cookie",
                         "User-Agent", "Transfer-Encoding"]) | header_names,
        header_values,
        max_size=3,
    ),
    slug=st.sampled_from(["glow", "glow", "glow", "skinhub", "nope"]),
)
def test_discourse_webhook_survives_1000_hostile_deliveries(
    discourse_source: ForumSource, standard_source: ForumSource, client: Client, body: bytes, event: str,
    sign: SignMode, instance: str | None, content_type: str, content_length: str | None,
    extra_headers: dict[str, str], slug: str,
) -> None:
    headers = {**extra_headers, "X-Discourse-Event": event}
    if instance is not None:
        headers["X-Discourse-Instance"] = instance
    signature = {"valid": lambda: discourse_sign(body), "wrong_secret": lambda: discourse_sign(body, WRONG_DISCOURSE_SECRET),
                 "garbage": lambda: extra_headers.get("Authorization", "sha256=zz"), "none": lambda: None}[sign]()
    if signature is not None:
        headers["X-Discourse-Event-Signature"] = signature
    _post(client, "webhook fuzz discourse", f"/webhooks/discourse/{slug}/", body, content_type, headers, content_length)


@FUZZ
@given(
    body=bodies("standard"),
    msg_id=st.sampled_from(["msg_1", "msg_2", "msg_1"]) | header_values,
    skew=st.sampled_from([0, 0, -299, 301, -10**6]) | st.integers(-1000, 1000),
    timestamp_text=st.sampled_from([None, None, None, "", "1e9", "-1", "99999999999999999999999", "\u0661"]) | header_values,
    sign=SIGN_MODES,
    content_type=CONTENT_TYPES,
    content_length=CONTENT_LENGTHS,
    extra_headers=st.dictionaries(
        st.sampled_from(["webhook-signature", "webhook-timestamp", "Accept", "Cookie", "User-Agent"]) | header_names,
        header_values,
        max_size=3,
    ),
    slug=st.sampled_from(["skinhub", "skinhub", "skinhub", "glow", "nope"]),
)
def test_standard_webhook_survives_1000_hostile_deliveries(
    discourse_source: ForumSource, standard_source: ForumSource, client: Client, body: bytes, msg_id: str, skew: int,
    timestamp_text: str | None, sign: SignMode, content_type: str, content_length: str | None,
    extra_headers: dict[str, str], slug: str,
) -> None:
    timestamp = int(time.time()) + skew
    headers = {**extra_headers, "webhook-id": msg_id}
    signers: dict[str, Callable[[], str | None]] = {
        "valid": lambda: standard_sign(body, msg_id=msg_id, timestamp=timestamp),
        "wrong_secret": lambda: standard_sign(body, msg_id=msg_id, timestamp=timestamp, secret=WRONG_STANDARD_SECRET),
        "garbage": lambda: "v1," + extra_headers.get("Cookie", "!!notbase64"),
        "none": lambda: None,
    }
    signature = signers[sign]()
    if signature is not None:
        headers["webhook-signature"] = signature
        headers["webhook-timestamp"] = str(timestamp) if timestamp_text is None else timestamp_text
    _post(client, "webhook fuzz standard", f"/webhooks/standard/{slug}/", body, content_type, headers, content_length)


def test_fixture_payloads_exist_for_both_endpoints() -> None:
    """The mutation strategies start from real payloads; an empty folder would silently weaken them."""
    assert len(_fixtures("discourse")) >= 5
    assert len(_fixtures("standard")) >= 3
    assert STANDARD_SECRET.startswith("whsec_") and DISCOURSE_SECRET
    assert Path(FIXTURES).is_dir()
