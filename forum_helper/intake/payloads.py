"""Webhook bodies -> IncomingPost / ThreadUpdate: decoding, validation and field mapping.

Unknown keys are always accepted and ignored (forums and plugins add keys over time).
Every failure raises ApplicationError(400) saying what to fix; nothing here writes.
"""
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake.models import AuthorRole
from forum_helper.intake.types import IncomingPost

# Column limits: values beyond them would fail in the database, so they fail validation instead.
MAX_INT = 2**31 - 1
MAX_SMALL_INT = 2**15 - 1
MAX_ID_LENGTH = 128


_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


DISCOURSE_POST_EVENTS = ("post_created", "post_edited", "post_recovered")


def json_body_decode(body: bytes) -> Any:
    """Strict UTF-8 JSON whatever the Content-Type claims (Discourse sends JSON as form-encoded too)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApplicationError(
            "The body is not valid UTF-8; send UTF-8 encoded JSON.",
            extra={"byte_offset": error.start},
        ) from error
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise ApplicationError(
            f"The body is not valid JSON: {error.msg}.",
            extra={"line": error.lineno, "column": error.colno},
        ) from error
    except (ValueError, RecursionError) as error:  # too deeply nested, or an integer too long
        raise ApplicationError("The body is not acceptable JSON (too deeply nested or a number too long).") from error
    # Strict JSON has no raw control characters or lone surrogates in strings, so a NUL or a
    # surrogate can only come from a \u escape: without one, the walk over the payload is skipped.
    problem = _unstorable_text(payload) if _UNSTORABLE_ESCAPE.search(text) else ""
    if problem:
        raise ApplicationError(problem)
    if not isinstance(payload, dict):
        raise ApplicationError("The body must be a JSON object.", extra={"got": type(payload).__name__})
    return payload


def _unstorable_text(payload: Any) -> str:
    """Strings the database cannot store: NUL characters and unpaired surrogates (\\ud800)."""
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return "Strings must not contain NUL characters (\\u0000)."
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "Strings must not contain unpaired UTF-16 surrogates (e.g. \\ud800)."
    return ""


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": MAX_ID_LENGTH}, {"type": "integer"}]})
class ExternalIdField(serializers.Field):
    """An id as the forum sends it: an integer or a non-empty string, stored as a string."""

    default_error_messages = {
        "invalid": "Must be an integer or a non-empty string.",
        "max_length": f"Must be at most {MAX_ID_LENGTH} characters.",
    }

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        value = str(data).strip()
        if not value:
            self.fail("invalid")
        if len(value) > MAX_ID_LENGTH:
            self.fail("max_length")
        return value

    def to_representation(self, value: Any) -> str:
        return str(value)


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField would turn 12 into "12").

    Payloads come only from json_body_decode, which refuses NULs and lone surrogates for the
    whole body in one pass; DRF's per-character validators for them (about 1 ms for a 2 KB
    post) are dropped.
    """

    default_error_messages = {"not_a_string": "Must be a string."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators
            if not isinstance(v, (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator))
        ]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class TrimmedCharField(StrictCharField):
    """Display text (names, titles): null becomes "", over-long values are cut, not rejected."""

    def __init__(self, *, cut_at: int, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        if not kwargs["required"]:
            kwargs.setdefault("default", "")
        self.cut_at = cut_at
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data)[: self.cut_at]

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


def _validated(serializer: serializers.Serializer, payload: Any, what: str) -> Any:
    """`payload` validated by a shared, unbound serializer.

    `run_validation` keeps no state on the serializer, so one instance per class serves every
    request; a serializer built per request deep-copies its whole field tree first (~2 ms).
    """
    try:
        return serializer.run_validation(payload)
    except serializers.ValidationError as error:
        raise ApplicationError(
            f"The {what} is missing fields or has fields of the wrong type; see extra.fields.",
            extra={"fields": error.detail},
        ) from error


@dataclass(frozen=True)
class ThreadUpdate:
    external_id: str
    title: str
    url: str = ""
    created_at: datetime | None = None


# ---------------------------------------------------------------- Discourse


class DiscoursePostSerializer(serializers.Serializer):
    """The keys of Discourse's WebHookPostSerializer that we use (others are ignored)."""

    id = ExternalIdField()
    topic_id = ExternalIdField()
    raw = StrictCharField(allow_blank=True, trim_whitespace=False)
    cooked = StrictCharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False, default="")
    version = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False, default=1)
    post_number = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True, default=None)
    reply_to_post_number = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True, default=None
    )
    username = TrimmedCharField(cut_at=200)
    name = TrimmedCharField(cut_at=200)
    user_id = ExternalIdField(required=False, allow_null=True, default=None)
    user_title = TrimmedCharField(cut_at=200)
    trust_level = serializers.IntegerField(min_value=0, max_value=MAX_SMALL_INT, required=False, allow_null=True, default=None)
    staff = serializers.BooleanField(required=False, allow_null=True, default=False)
    moderator = serializers.BooleanField(required=False, allow_null=True, default=False)
    admin = serializers.BooleanField(required=False, allow_null=True, default=False)
    created_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    updated_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    edit_reason = TrimmedCharField(cut_at=500)
    topic_title = TrimmedCharField(cut_at=500)
    topic_slug = TrimmedCharField(cut_at=300)


class DiscoursePostBodySerializer(serializers.Serializer):
    post = DiscoursePostSerializer()


class DiscourseTopicSerializer(serializers.Serializer):
    id = ExternalIdField()
    title = TrimmedCharField(cut_at=500)
    slug = TrimmedCharField(cut_at=300)
    created_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DiscourseTopicBodySerializer(serializers.Serializer):
    topic = DiscourseTopicSerializer()


_DISCOURSE_POST_BODY = DiscoursePostBodySerializer()
_DISCOURSE_TOPIC_BODY = DiscourseTopicBodySerializer()


def discourse_thread_url(*, instance_url: str, topic_slug: str, topic_id: str) -> str:
    if not instance_url:
        return ""
    return f"{instance_url.rstrip('/')}/t/{topic_slug or 'topic'}/{topic_id}"


def discourse_post_parse(*, payload: dict[str, Any], instance_url: str = "") -> IncomingPost:
    post = _validated(_DISCOURSE_POST_BODY, payload, "Discourse post")["post"]
    is_staff = bool(post["staff"] or post["moderator"] or post["admin"])
    version = post["version"]
    return IncomingPost(
        thread_external_id=post["topic_id"],
        thread_title=post["topic_title"],
        thread_url=discourse_thread_url(instance_url=instance_url, topic_slug=post["topic_slug"], topic_id=post["topic_id"]),
        post_external_id=post["id"],
        raw_text=post["raw"],
        html=post["cooked"] or "",
        author_name=post["username"] or post["name"],
        author_external_id=post["user_id"] or "",
        author_role=AuthorRole.STAFF if is_staff else AuthorRole.MEMBER,
        author_title=post["user_title"],
        trust_level=post["trust_level"],
        position=post["post_number"],
        reply_to_position=post["reply_to_post_number"],
        created_at=post["created_at"],
        # Discourse bumps updated_at for likes and the like; it is an edit time only after an edit.
        edited_at=post["updated_at"] if version > 1 else None,
        version=version,
        edit_reason=post["edit_reason"],
    )


def discourse_topic_parse(*, payload: dict[str, Any], instance_url: str = "") -> ThreadUpdate:
    topic = _validated(_DISCOURSE_TOPIC_BODY, payload, "Discourse topic")["topic"]
    return ThreadUpdate(
        external_id=topic["id"],
        title=topic["title"],
        url=discourse_thread_url(instance_url=instance_url, topic_slug=topic["slug"], topic_id=topic["id"]),
        created_at=topic["created_at"],
    )


# ---------------------------------------------------------------- Standard Webhooks

STANDARD_POST_EVENTS = ("post.created", "post.edited")


class StandardThreadSerializer(serializers.Serializer):
    id = ExternalIdField(help_text="The thread's id at the sender.")
    title = TrimmedCharField(cut_at=500, help_text="The thread title (cut at 500 characters).")
    url = serializers.URLField(required=False, allow_blank=True, max_length=1000, default="", help_text="Link to the thread.")


class StandardPostSerializer(serializers.Serializer):
    id = ExternalIdField(help_text="The post's id at the sender; with `version`, the de-duplication key.")
    text = StrictCharField(allow_blank=True, trim_whitespace=False, help_text="The post text as written (Markdown or plain).")
    html = StrictCharField(required=False, allow_blank=True, trim_whitespace=False, default="", help_text="Rendered HTML, if any.")
    position = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_INT, default=None, help_text="1 for the thread opener."
    )
    reply_to_id = ExternalIdField(required=False, allow_null=True, default=None, help_text="Id of the post this one answers.")
    created_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    edited_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_INT,
        default=None,
        help_text="Increments on every edit. Without it a changed text becomes the next version.",
    )
    edit_reason = TrimmedCharField(cut_at=500)


class StandardAuthorSerializer(serializers.Serializer):
    id = ExternalIdField(required=False, allow_null=True, default=None)
    name = TrimmedCharField(cut_at=200, required=True, help_text="Display name or username.")
    role = serializers.ChoiceField(choices=AuthorRole.values, required=False, default=AuthorRole.MEMBER)
    trust_level = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_SMALL_INT, default=None)
    title = TrimmedCharField(cut_at=200, help_text="The author's forum title, e.g. 'Dermatologist'.")


class StandardDataSerializer(serializers.Serializer):
    thread = StandardThreadSerializer()
    post = StandardPostSerializer()
    author = StandardAuthorSerializer()


class StandardEnvelopeSerializer(serializers.Serializer):
    """A Standard Webhooks delivery to /webhooks/standard/<slug>/ (the request body)."""

    type = StrictCharField(
        max_length=64, help_text="`post.created` or `post.edited` are stored; other types are answered 202 and logged."
    )
    timestamp = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="When the event happened (ISO 8601).")
    data = StandardDataSerializer()


class StandardTypeSerializer(serializers.Serializer):
    type = StrictCharField(max_length=64)


_STANDARD_TYPE = StandardTypeSerializer()
_STANDARD_ENVELOPE = StandardEnvelopeSerializer()


def standard_event_type(*, payload: dict[str, Any]) -> str:
    return _validated(_STANDARD_TYPE, payload, "Standard Webhooks envelope")["type"]


def standard_post_parse(*, payload: dict[str, Any]) -> IncomingPost:
    data = _validated(_STANDARD_ENVELOPE, payload, "Standard Webhooks envelope")["data"]
    thread, post, author = data["thread"], data["post"], data["author"]
    return IncomingPost(
        thread_external_id=thread["id"],
        thread_title=thread["title"],
        thread_url=thread["url"],
        post_external_id=post["id"],
        raw_text=post["text"],
        html=post["html"],
        position=post["position"],
        parent_external_id=post["reply_to_id"] or "",
        created_at=post["created_at"],
        edited_at=post["edited_at"],
        version=post["version"],
        edit_reason=post["edit_reason"],
        author_name=author["name"],
        author_external_id=author["id"] or "",
        author_role=author["role"],
        author_title=author["title"],
        trust_level=author["trust_level"],
    )
