import pytest

from forum_helper.core.models import AuditLog
from forum_helper.library.models import Document, Passage, Pin
from forum_helper.library.search import search_passage_ids

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["document", "passage", "pin"])
def test_the_admin_lists_library_rows(superuser_client, model: str) -> None:
    assert superuser_client.get(f"/admin/library/{model}/").status_code == 200


def test_the_document_admin_shows_its_passages_inline(superuser_client) -> None:
    document = Document.objects.get(source_url__endswith="co2-laser-prp")
    response = superuser_client.get(f"/admin/library/document/{document.pk}/change/")
    assert response.status_code == 200
    assert "The Koebner Phenomenon Risks" in response.content.decode()


def test_editing_a_passage_in_the_admin_goes_through_the_service(superuser_client) -> None:
    passage = Passage.objects.get(heading="Deep Dermal Penetration")
    response = superuser_client.post(
        f"/admin/library/passage/{passage.pk}/change/", {"heading": passage.heading, "text": "Wombats dig deep burrows."}
    )
    assert response.status_code == 302
    assert search_passage_ids(["wombats"], limit=3) == [passage.pk]
    assert AuditLog.objects.filter(action="library.passage_update", target_id=str(passage.pk)).exists()


def test_adding_and_deleting_a_pin_in_the_admin_writes_audit_rows(superuser_client) -> None:
    passage = Passage.objects.get(heading="Deep Dermal Penetration")
    response = superuser_client.post("/admin/library/pin/add/", {"passage": passage.pk, "category": "diy_ablation", "rule_id": "", "note": ""})
    assert response.status_code == 302
    pin = Pin.objects.get(passage=passage, category="diy_ablation")
    assert AuditLog.objects.filter(action="library.pin_create", target_id=str(pin.pk)).exists()
    superuser_client.post(f"/admin/library/pin/{pin.pk}/delete/", {"post": "yes"})
    assert not Pin.objects.filter(pk=pin.pk).exists()
    assert AuditLog.objects.filter(action="library.pin_delete", target_id=str(pin.pk)).exists()
