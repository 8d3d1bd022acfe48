import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from forum_helper.core.models import AuditLog
from forum_helper.moderation.models import Decision, Note
from forum_helper.moderation.services import queue_item_claim, queue_item_sync_for_finding
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(moderator) -> APIClient:
    client = APIClient()
    client.force_authenticate(moderator)
    return client


def _item(**kwargs):
    return queue_item_sync_for_finding(finding=finding_create(**kwargs))


def test_the_list_api_applies_the_same_filters_as_the_page(api):
    high = _item()
    medium = _item(severity="medium", categories=["uv_combination"])
    body = api.get("/api/queue/").json()
    assert [r["id"] for r in body["results"]] == [high.pk, medium.pk]
    assert body["has_next"] is False
    assert [r["id"] for r in api.get("/api/queue/?category=uv_combination").json()["results"]] == [medium.pk]
    assert body["results"][0]["post"]["external_id"] == high.post.external_id


def test_the_detail_api_returns_text_evidence_and_references(api):
    reference = {"category": "home_needling", "passage_id": "p1", "document_id": "d1", "document_title": "Needling",
                 "heading": "Depth", "excerpt": "…", "url": "", "dois": ["10.1/x"], "pinned": False}
    item = _item(references=[reference])
    body = api.get(f"/api/queue/{item.pk}/").json()
    assert body["evidence"][0]["category"] == "home_needling"
    assert body["references"][0]["library_url"] == "/library/documents/d1/#passage-p1"
    assert body["text"].startswith("I will dermaroller")
    assert body["rule_revisions"] == {"needling.device": 3, "drug.calcineurin": 3}


def test_claim_api_answers_409_with_a_message_for_the_second_claimer(api, other_moderator):
    item = _item()
    queue_item_claim(item_id=item.pk, actor=other_moderator)
    response = api.post(f"/api/queue/{item.pk}/claim/", {"version": 2}, format="json")
    assert response.status_code == 409
    assert response.json()["message"].startswith("mod2 claimed this item first")


def test_decide_api_creates_a_decision_and_refuses_a_stale_version(api):
    item = _item()
    response = api.post(f"/api/queue/{item.pk}/decide/", {"version": 1, "kind": "escalate", "reason": "clinical"},
                        format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "escalate"
    assert response.json()["item_version"] == 2
    stale = api.post(f"/api/queue/{item.pk}/decide/", {"version": 1, "kind": "dismiss", "reason": "x"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["extra"]["current_version"] == 2
    assert Decision.objects.count() == 1


def test_decide_api_requires_a_reason(api):
    item = _item()
    response = api.post(f"/api/queue/{item.pk}/decide/", {"version": 1, "kind": "dismiss"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["extra"]["fields"]
    assert Decision.objects.count() == 0


def test_notes_api_adds_and_lists_notes(api):
    item = _item()
    assert api.post(f"/api/queue/{item.pk}/notes/", {"text": "hello"}, format="json").status_code == 201
    assert [n["text"] for n in api.get(f"/api/queue/{item.pk}/notes/").json()] == ["hello"]
    assert Note.objects.count() == 1
    assert AuditLog.objects.filter(action="queue_item.note_added").count() == 1


def test_the_token_endpoint_issues_a_token_that_authenticates(moderator):
    client = APIClient()
    response = client.post("/api/token/", {"username": "mod", "password": "pw-123456789"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=moderator).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/queue/counts/").json() == {"open": 0, "mine": 0, "escalated": 0, "resolved": 0, "low": 0}


def test_the_queue_endpoints_appear_in_the_openapi_schema(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/queue/", "/api/queue/{item_id}/", "/api/queue/{item_id}/claim/",
                 "/api/queue/{item_id}/decide/", "/api/queue/{item_id}/notes/", "/api/queue/counts/"):
        assert path in paths
    schemas = response.json()["components"]["schemas"]
    assert {"QueueItemDetail", "QueueItemPage", "QueueDecision"} <= set(schemas)
