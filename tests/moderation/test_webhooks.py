import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.test import Client

from forum_helper.moderation import webhooks
from forum_helper.moderation.services import decision_create, queue_item_sync_for_finding
from forum_helper.moderation.models import Decision
from forum_helper.moderation.tasks import decision_undone_webhook_task, decision_webhook_task
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def receiver():
    """A tiny HTTP server on 127.0.0.1 recording what it receives.

    Its answers: `received.statuses` (popped one per request) and 204 once that list is empty.
    """
    received = _Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            self.send_response(received.statuses.pop(0) if received.statuses else 204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for serve_forever's next poll: 0.5 s by default, after every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


class _Received(list):
    statuses: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.statuses = []


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


# ---- undo ------------------------------------------------------------------------------------

def _hooked_item(url: str):
    finding = finding_create()
    source = finding.post_version.post.source
    source.outgoing_webhook_url = url
    source.outgoing_secret = SECRET
    source.save()
    return queue_item_sync_for_finding(finding=finding)


def test_undo_on_the_item_page_posts_a_signed_decision_undone_webhook(receiver, mod_client,
                                                                      django_capture_on_commit_callbacks):
    url, received = receiver
    item = _hooked_item(url)
    post = item.post
    with django_capture_on_commit_callbacks(execute=True):
        decided = mod_client.post(f"/queue/{item.pk}/decide/", {"version": 1, "kind": "confirm",
                                                                "action_taken": "removed", "reason": "dangerous"})
    assert decided.status_code == 302 and len(received) == 1
    decision = item.decisions.get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        undone = mod_client.post(f"/queue/{item.pk}/undo/", {"version": 2})
    assert undone.status_code == 302
    assert len(callbacks) == 1
    assert len(received) == 2
    headers, body = received[1]["headers"], received[1]["body"]
    assert _verify(SECRET, headers, body)
    assert headers["webhook-id"] == f"msg_decision_{decision.pk}_undone"
    assert headers["webhook-id"] != received[0]["headers"]["webhook-id"]
    payload = json.loads(body)
    decision.refresh_from_db()
    assert payload["type"] == "moderation.decision.undone"
    assert payload["data"] == {
        "post_id": post.external_id, "thread_id": post.thread.external_id, "decision": "confirm",
        "action_taken": "removed", "reason": "dangerous", "decided_at": decision.created_at.isoformat(),
        "undone_at": decision.undone_at.isoformat(), "restored_status": "open",
    }


def test_undo_through_the_api_posts_the_webhook_and_retries_a_failed_delivery(receiver, moderator,
                                                                              django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    url, received = receiver
    item = _hooked_item(url)
    api = APIClient()
    api.force_authenticate(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/queue/{item.pk}/decide/", {"version": 1, "kind": "dismiss", "reason": "joke"},
                        format="json").status_code == 201
    received.statuses = [503]  # the forum is briefly down: the undo delivery is retried, same id
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/queue/{item.pk}/undo/", {"version": 2}, format="json")
    assert response.status_code == 200, response.content
    undo_deliveries = [r for r in received if json.loads(r["body"])["type"] == "moderation.decision.undone"]
    assert len(undo_deliveries) == 2
    assert undo_deliveries[0]["headers"]["webhook-id"] == undo_deliveries[1]["headers"]["webhook-id"]
    assert all(_verify(SECRET, r["headers"], r["body"]) for r in undo_deliveries)
    assert json.loads(undo_deliveries[1]["body"])["data"]["decision"] == "dismiss"


def test_a_refused_undo_sends_no_webhook(receiver, mod_client, other_moderator, django_capture_on_commit_callbacks):
    url, received = receiver
    item = _hooked_item(url)
    with django_capture_on_commit_callbacks(execute=True):
        mod_client.post(f"/queue/{item.pk}/decide/", {"version": 1, "kind": "dismiss", "reason": "joke"})
    assert len(received) == 1
    other = Client()
    other.force_login(other_moderator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert mod_client.post(f"/queue/{item.pk}/undo/", {"version": 1}).status_code == 409  # stale version
        assert other.post(f"/queue/{item.pk}/undo/", {"version": 2}).status_code == 403  # not their decision
        assert mod_client.post(f"/queue/{item.pk}/undo/", {"version": "x"}).status_code == 302  # bad form
    assert callbacks == []
    assert len(received) == 1
    assert item.decisions.get().undone is False


def test_no_undo_webhook_is_enqueued_when_the_source_has_no_outgoing_url(mod_client,
                                                                         django_capture_on_commit_callbacks):
    item = queue_item_sync_for_finding(finding=finding_create())
    mod_client.post(f"/queue/{item.pk}/decide/", {"version": 1, "kind": "dismiss", "reason": "joke"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert mod_client.post(f"/queue/{item.pk}/undo/", {"version": 2}).status_code == 302
    assert callbacks == []
    assert item.decisions.get().undone is True


def test_the_undo_task_retries_like_the_decision_task_and_skips_a_decision_that_is_not_undone(receiver):
    url, received = receiver
    item = _hooked_item(url)
    for option in ("autoretry_for", "retry_backoff", "retry_backoff_max", "max_retries", "acks_late"):
        assert getattr(decision_undone_webhook_task, option) == getattr(decision_webhook_task, option)
    decision = Decision.objects.create(item=item, finding=item.finding, kind="dismiss", reason="x",
                                       previous_status="open")
    decision_undone_webhook_task(decision.pk)
    decision_undone_webhook_task(10**9)
    assert received == []
