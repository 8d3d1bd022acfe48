"""Shared fixtures for the intake tests: sources, signing helpers, fixture payloads."""
import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from forum_helper.intake.models import ForumSource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"
DISCOURSE_SECRET = "my_lovely_secret_for_web_hook"
DISCOURSE_INSTANCE = "https://forum.example"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def fixture_bytes(endpoint: str, name: str) -> bytes:
    return (FIXTURES / endpoint / name).read_bytes()


def fixture_json(endpoint: str, name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(endpoint, name))


def discourse_sign(body: bytes, secret: str = DISCOURSE_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_sign(body: bytes, *, msg_id: str, timestamp: int | str, secret: str = STANDARD_SECRET) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@pytest.fixture
def discourse_source(db: None) -> ForumSource:
    return ForumSource.objects.create(
        slug="glow", kind=ForumSource.Kind.DISCOURSE, secrets=[DISCOURSE_SECRET], instance_url=DISCOURSE_INSTANCE
    )


@pytest.fixture
def standard_source(db: None) -> ForumSource:
    return ForumSource.objects.create(slug="skinhub", kind=ForumSource.Kind.STANDARD, secrets=[STANDARD_SECRET])


def discourse_headers(body: bytes, event: str, *, event_id: str = "1", secret: str | None = DISCOURSE_SECRET) -> dict[str, str]:
    headers = {
        "X-Discourse-Instance": DISCOURSE_INSTANCE,
        "X-Discourse-Event-Id": event_id,
        "X-Discourse-Event-Type": event.split("_")[0],
        "X-Discourse-Event": event,
        "User-Agent": "Discourse/3.3.0 (+https://www.discourse.org)",
    }
    if secret is not None:
        headers["X-Discourse-Event-Signature"] = discourse_sign(body, secret)
    return headers


def standard_headers(body: bytes, *, msg_id: str, timestamp: int, secret: str = STANDARD_SECRET) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_sign(body, msg_id=msg_id, timestamp=timestamp, secret=secret),
    }


@pytest.fixture
def screenings_published(monkeypatch) -> list[list[int]]:
    """The post version ids of each screening task published (the publish still happens)."""
    from forum_helper.screening import services

    published: list[list[int]] = []
    real_publish = services.task_publish

    def recording_publish(task, *args):
        published.append(list(args[0]) if isinstance(args[0], list) else [args[0]])
        return real_publish(task, *args)

    monkeypatch.setattr(services, "task_publish", recording_publish)
    return published
