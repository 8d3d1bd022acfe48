import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from forum_helper.moderation import webhooks
from forum_helper.moderation.services import decision_create, queue_item_sync_for_finding
from forum_helper.moderation.tasks import decision_webhook_task
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def receiver():
    """A tiny HTTP server on 127.0.0.1 recording what it receives."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def _verify(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", sig) for sig in headers["webhook-signature"].split())


def test_a_decision_posts_a_signed_standard_webhook_after_commit(receiver, moderator,
                                                                django_capture_on_commit_callbacks):
    url, received = receiver
    finding = finding_create()
    post = finding.post_version.post
    post.source.outgoing_webhook_url = url
    post.source.outgoing_secret = SECRET
    post.source.save()
    item = queue_item_sync_for_finding(finding=finding)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        decision_create(item_id=item.pk, actor=moderator, kind="confirm", action_taken="removed",
                        reason="dangerous", expected_version=1)
    assert len(callbacks) == 1
    assert len(received) == 1
    headers, body = received[0]["headers"], received[0]["body"]
    assert _verify(SECRET, headers, body)
    assert not _verify("whsec_" + base64.b64encode(b"wrong-key-wrong-key").decode(), headers, body)
    payload = json.loads(body)
    assert payload["type"] == "moderation.decision"
    assert payload["data"] == {"post_id": post.external_id, "thread_id": post.thread.external_id,
                               "decision": "confirm", "action_taken": "removed", "reason": "dangerous"}
    assert headers["webhook-id"] == f"msg_decision_{item.decisions.get().pk}"


def test_no_webhook_is_enqueued_when_the_source_has_no_outgoing_url(moderator, django_capture_on_commit_callbacks):
    item = queue_item_sync_for_finding(finding=finding_create())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decision_create(item_id=item.pk, actor=moderator, kind="dismiss", reason="fine", expected_version=1)
    assert callbacks == []


def test_a_refused_decision_enqueues_no_webhook(moderator, django_capture_on_commit_callbacks):
    finding = finding_create()
    source = finding.post_version.post.source
    source.outgoing_webhook_url = "http://127.0.0.1:9/hook"
    source.save()
    item = queue_item_sync_for_finding(finding=finding)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Exception):
            decision_create(item_id=item.pk, actor=moderator, kind="dismiss", reason="fine", expected_version=7)
    assert callbacks == []


def test_network_errors_are_retryable_and_client_errors_are_not():
    request = webhooks.SignedRequest(url="http://127.0.0.1:9/unreachable", body=b"{}", headers={})
    with pytest.raises(webhooks.WebhookDeliveryError):
        webhooks.request_send(request=request)
    assert webhooks.WebhookDeliveryError in decision_webhook_task.autoretry_for
    assert decision_webhook_task.retry_backoff is True


def test_the_signature_matches_the_standard_webhooks_reference_vector():
    # From the Standard Webhooks spec's reference implementation tests.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = webhooks.signature(secret=secret, message_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330,
                                   body=body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
