import pytest
from django.test import Client

from forum_helper.core.models import AuditLog
from forum_helper.library.models import Document, Passage, Pin

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/library/", "/library/import/"])
def test_anonymous_visitors_are_sent_to_the_login_page(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_logged_in_user_without_a_role_is_refused(member) -> None:
    assert logged_in(member).get("/library/").status_code == 403


def test_moderators_see_the_document_list(moderator) -> None:
    response = logged_in(moderator).get("/library/")
    assert response.status_code == 200
    html = response.content.decode()
    for document in Document.objects.all():
        assert f'href="/library/documents/{document.pk}/"' in html
    assert "Import an article" not in html


def test_the_document_page_anchors_each_passage_and_lists_the_dois(moderator) -> None:
    document = Document.objects.get(source_url__endswith="co2-laser-vitiligo")
    response = logged_in(moderator).get(f"/library/documents/{document.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for passage in document.passages.all():
        assert f'id="passage-{passage.pk}"' in html
    assert "Amplifying Adjuvant Therapies" in html
    assert "https://doi.org/10.3389/fimmu.2023.1294919" in html
    assert "Related Products" not in html
    assert "/pin/" not in html  # moderators read only


def test_an_unknown_document_page_is_404(moderator) -> None:
    assert logged_in(moderator).get("/library/documents/999999/").status_code == 404


def test_admins_see_pin_forms_and_can_pin_from_the_page(admin_user) -> None:
    client = logged_in(admin_user)
    passage = Passage.objects.get(heading="Deep Dermal Penetration")
    page = client.get(f"/library/documents/{passage.document_id}/").content.decode()
    assert f"/library/passages/{passage.pk}/pin/" in page
    response = client.post(f"/library/passages/{passage.pk}/pin/", {"category": "diy_ablation", "rule_id": "", "note": "deep"})
    assert response.status_code == 302 and response["Location"].endswith(f"#passage-{passage.pk}")
    pin = Pin.objects.get(passage=passage, category="diy_ablation")
    assert AuditLog.objects.filter(action="library.pin_create", target_id=str(pin.pk), actor=admin_user).exists()

    client.post(f"/library/pins/{pin.pk}/delete/")
    assert not Pin.objects.filter(pk=pin.pk).exists()


def test_moderators_cannot_pin_or_import_from_the_pages(moderator) -> None:
    client = logged_in(moderator)
    passage = Passage.objects.first()
    count = Pin.objects.count()
    assert client.post(f"/library/passages/{passage.pk}/pin/", {"category": "diy_ablation"}).status_code == 403
    assert client.post(f"/library/pins/{Pin.objects.first().pk}/delete/").status_code == 403
    assert client.get("/library/import/").status_code == 403
    assert Pin.objects.count() == count and not AuditLog.objects.filter(action__startswith="library.").exists()


def test_admins_import_an_article_from_the_page(admin_user) -> None:
    client = logged_in(admin_user)
    assert client.get("/library/import/").status_code == 200
    response = client.post(
        "/library/import/",
        {
            "title": "Pasted",
            "url": "https://example.org/library/pasted",
            "publisher": "",
            "text": "Sun After Needling\nUltraviolet light reaches deeper through fresh channels.\nRelated Products\n- Lamp\n",
        },
    )
    document = Document.objects.get(source_url="https://example.org/library/pasted")
    assert response.status_code == 302 and response["Location"] == f"/library/documents/{document.pk}/"
    assert list(document.passages.values_list("heading", "text")) == [
        ("Sun After Needling", "Ultraviolet light reaches deeper through fresh channels.")
    ]
