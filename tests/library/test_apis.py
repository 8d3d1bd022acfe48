import pytest
from rest_framework.test import APIClient

from forum_helper.core.models import AuditLog
from forum_helper.library.models import Document, Passage, Pin

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/library/api/documents/", "/library/api/pins/"]


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_callers_are_refused(url: str) -> None:
    response = client_for().get(url)
    assert response.status_code in (401, 403)
    assert response.json()["message"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_moderators_are_refused_because_the_library_api_is_for_admins(moderator, url: str) -> None:
    assert client_for(moderator).get(url).status_code == 403


def test_a_moderator_cannot_create_a_pin_and_nothing_is_written(moderator) -> None:
    count = Pin.objects.count()
    response = client_for(moderator).post("/library/api/pins/", {"passage_id": Passage.objects.first().pk, "category": "x"}, format="json")
    assert response.status_code == 403
    assert Pin.objects.count() == count and not AuditLog.objects.filter(action__startswith="library.").exists()


def test_admins_list_the_documents_with_their_citations(admin_user) -> None:
    response = client_for(admin_user).get("/library/api/documents/")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 4
    vitiligo = next(r for r in rows if r["source_url"].endswith("co2-laser-vitiligo"))
    assert {"text", "doi"} <= set(vitiligo["citations"][0])
    assert vitiligo["passage_count"] == Passage.objects.filter(document_id=vitiligo["id"]).count()


def test_admins_read_a_document_with_its_passages_in_order(admin_user) -> None:
    document = Document.objects.get(source_url__endswith="co2-laser-prp")
    response = client_for(admin_user).get(f"/library/api/documents/{document.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["dois"] == ["10.5812/jssc-124222"]
    assert [p["position"] for p in body["passages"]] == sorted(p["position"] for p in body["passages"])
    koebner = next(p for p in body["passages"] if p["heading"] == "The Koebner Phenomenon Risks")
    assert koebner["anchor"] == f"passage-{koebner['id']}"
    assert koebner["pinned_categories"] == ["koebner_risk"]


def test_an_unknown_document_answers_404(admin_user) -> None:
    response = client_for(admin_user).get("/library/api/documents/999999/")
    assert response.status_code == 404
    assert response.json() == {"message": "No such document.", "extra": {}}


def test_admins_create_a_pin_and_an_audit_row_is_written(admin_user) -> None:
    passage = Passage.objects.get(heading="Deep Dermal Penetration")
    response = client_for(admin_user).post(
        "/library/api/pins/", {"passage_id": passage.pk, "category": "diy_ablation", "note": "depth"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["passage_id"], body["category"], body["rule_id"], body["created_by"]) == (passage.pk, "diy_ablation", "", "ada")
    audit = AuditLog.objects.get(action="library.pin_create")
    assert (audit.actor, audit.target_id) == (admin_user, str(body["id"]))


def test_a_duplicate_pin_answers_409_with_a_message(admin_user) -> None:
    pin = Pin.objects.filter(category="koebner_risk").first()
    response = client_for(admin_user).post("/library/api/pins/", {"passage_id": pin.passage_id, "category": "koebner_risk"}, format="json")
    assert response.status_code == 409
    assert "already pinned" in response.json()["message"]


def test_a_pin_without_target_or_with_unknown_passage_answers_400(admin_user) -> None:
    client = client_for(admin_user)
    assert client.post("/library/api/pins/", {"passage_id": Passage.objects.first().pk}, format="json").status_code == 400
    assert client.post("/library/api/pins/", {"passage_id": 999999, "category": "uv_combination"}, format="json").status_code == 400
    assert not AuditLog.objects.filter(action__startswith="library.").exists()


def test_admins_filter_the_pins_by_category(admin_user) -> None:
    response = client_for(admin_user).get("/library/api/pins/", {"category": "uv_combination"})
    assert response.status_code == 200
    assert {p["category"] for p in response.json()} == {"uv_combination"}
    assert len(response.json()) == Pin.objects.filter(category="uv_combination").count()


def test_admins_delete_a_pin_and_an_audit_row_is_written(admin_user) -> None:
    pin = Pin.objects.first()
    response = client_for(admin_user).delete(f"/library/api/pins/{pin.pk}/")
    assert response.status_code == 204
    assert not Pin.objects.filter(pk=pin.pk).exists()
    assert AuditLog.objects.filter(action="library.pin_delete", target_id=str(pin.pk), actor=admin_user).count() == 1


def test_a_moderator_cannot_delete_a_pin(moderator) -> None:
    pin = Pin.objects.first()
    assert client_for(moderator).delete(f"/library/api/pins/{pin.pk}/").status_code == 403
    assert Pin.objects.filter(pk=pin.pk).exists()


def test_the_library_api_is_documented_in_the_openapi_schema(admin_user) -> None:
    response = client_for(admin_user).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path, methods in {
        "/library/api/documents/": {"get"},
        "/library/api/documents/{document_id}/": {"get"},
        "/library/api/pins/": {"get", "post"},
        "/library/api/pins/{pin_id}/": {"delete"},
    }.items():
        assert methods <= set(paths[path]), path
    assert "LibraryPinCreate" in schema["components"]["schemas"]
    assert paths["/library/api/pins/"]["post"]["responses"]["201"]
