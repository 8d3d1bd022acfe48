"""Outgoing Standard Webhooks (https://www.standardwebhooks.com/) telling a forum about decisions and their undos."""
import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.utils import timezone

from forum_helper.moderation.models import Decision

TIMEOUT_SECONDS = 10
DECISION_EVENT = "moderation.decision"
DECISION_UNDONE_EVENT = "moderation.decision.undone"


class WebhookDeliveryError(Exception):
    """A failure worth retrying (network error, 5xx, 429)."""


@dataclass(frozen=True)
class SignedRequest:
    url: str
    body: bytes
    headers: dict[str, str]


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (a secret without the prefix is used as base64 too)."""
    encoded = secret.removeprefix("whsec_")
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def decision_payload(*, decision: Decision) -> dict:
    post = decision.item.post
    return {
        "type": DECISION_EVENT,
        "timestamp": timezone.now().isoformat(),
        "data": {
            "post_id": post.external_id,
            "thread_id": post.thread.external_id,
            "decision": decision.kind,
            "action_taken": decision.action_taken,
            "reason": decision.reason,
        },
    }


def decision_undone_payload(*, decision: Decision) -> dict:
    """The forum's cue to reverse what it did for the decision (restore a removed post, and so on).

    Deliveries can arrive out of order after retries: `decided_at` and `undone_at` let the
    receiver tell that this undo follows the decision it names.
    """
    payload = decision_payload(decision=decision)
    payload["type"] = DECISION_UNDONE_EVENT
    payload["data"].update(
        decided_at=decision.created_at.isoformat(),
        undone_at=decision.undone_at.isoformat() if decision.undone_at else None,
        restored_status=decision.previous_status,
    )
    return payload


def decision_request(*, decision: Decision, now: int | None = None) -> SignedRequest | None:
    # One id per decision: a retried delivery carries the same id, so the receiver can drop duplicates.
    return _signed_request(decision=decision, payload=decision_payload(decision=decision),
                           message_id=f"msg_decision_{decision.pk}", now=now)


def decision_undone_request(*, decision: Decision, now: int | None = None) -> SignedRequest | None:
    # A decision is undone at most once, so this id is as stable as the decision's own.
    return _signed_request(decision=decision, payload=decision_undone_payload(decision=decision),
                           message_id=f"msg_decision_{decision.pk}_undone", now=now)


def _signed_request(*, decision: Decision, payload: dict, message_id: str, now: int | None) -> SignedRequest | None:
    source = decision.item.post.source
    if not source.outgoing_webhook_url:
        return None
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(now if now is not None else time.time())
    return SignedRequest(
        url=source.outgoing_webhook_url,
        body=body,
        headers={
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret=source.outgoing_secret, message_id=message_id,
                                           timestamp=timestamp, body=body),
        },
    )


def request_send(*, request: SignedRequest) -> int:
    """POST it; raises WebhookDeliveryError on what a retry may fix, returns the status otherwise."""
    http_request = urllib.request.Request(request.url, data=request.body, headers=request.headers, method="POST")
    try:
        with urllib.request.urlopen(http_request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - admin-set URL
            return response.status
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code == 429:
            raise WebhookDeliveryError(f"{request.url} answered {error.code}") from error
        return error.code  # 4xx: the receiver rejects this payload; retrying would not help
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise WebhookDeliveryError(f"{request.url}: {error}") from error
