import pytest

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.models import AuditLog
from forum_helper.library.models import Document, Passage, Pin
from forum_helper.library.search import search_passage_ids
from forum_helper.library.services import document_delete, document_import, passage_update, pin_create, pin_delete
from tests.library.conftest import FIXTURES

pytestmark = pytest.mark.django_db

NEW_URL = "https://example.org/library/test-import"
ARTICLE = """Needling And Sunlight
Fresh micro-wounds let ultraviolet light and creams reach deeper layers than intact skin allows.
Keeping It Clean
Sterile needles and clean hands lower the risk of infection after any needling session.
Related Products
- Zymurgic Roller 3000
People Also Ask
- Is zymurgic rolling safe?
References
- A. Author. Channels and light. DOI: 10.9999/zz.2024.1
"""


def test_importing_a_seed_drops_the_advertising_and_keeps_the_doi(admin_user) -> None:
    document = document_import(
        path=FIXTURES / "reference-co2-laser-atrophic-scars.txt", title="Scars", url=NEW_URL, actor=admin_user
    )
    texts = " ".join(p.heading + " " + p.text for p in document.passages.all())
    for phrase in ("Related Products", "People Also Ask", "Contact us", "Elevate Your Clinic", "Cryolipolysis Fat Freezing"):
        assert phrase not in texts
    assert "open micro-wounds that are susceptible to infection" in texts
    assert document.dois == ["10.1111/jocd.13798"]
    assert document.body.endswith("Advance Your Scar Treatments")  # the source is stored as imported
    audit = AuditLog.objects.get(action="library.document_import", target_id=str(document.pk))
    assert audit.actor == admin_user
    assert audit.after["created"] == document.passages.count()


def test_reimporting_a_url_updates_the_document_and_keeps_unchanged_passages_and_their_pins(admin_user) -> None:
    document = document_import(text=ARTICLE, title="Draft", url=NEW_URL, actor=admin_user)
    kept, changed = document.passages.order_by("position")
    kept_pin = pin_create(passage=kept, category="uv_combination", actor=admin_user)
    pin_create(passage=changed, category="wound_care_risk", actor=admin_user)

    again = document_import(
        text=ARTICLE.replace("lower the risk of infection", "reduce infection"), title="Final", url=NEW_URL, publisher="P", actor=admin_user
    )

    assert again.pk == document.pk and Document.objects.filter(source_url=NEW_URL).count() == 1
    assert (again.title, again.publisher) == ("Final", "P")
    passages = list(again.passages.order_by("position"))
    assert [p.pk for p in passages][0] == kept.pk
    assert passages[1].pk != changed.pk and "reduce infection" in passages[1].text
    assert list(Pin.objects.filter(passage__document=again)) == [kept_pin]
    assert not Passage.objects.filter(pk=changed.pk).exists()


def test_reimporting_identical_text_changes_nothing_but_the_audit_log(admin_user) -> None:
    document = document_import(text=ARTICLE, title="T", url=NEW_URL, actor=admin_user)
    before = list(document.passages.values_list("pk", "position", "heading", "text"))
    document_import(text=ARTICLE, title="T", url=NEW_URL, actor=admin_user)
    assert list(document.passages.values_list("pk", "position", "heading", "text")) == before
    assert AuditLog.objects.filter(action="library.document_import", target_id=str(document.pk)).count() == 2


def test_an_article_with_only_advertising_is_refused_and_nothing_is_written(admin_user) -> None:
    with pytest.raises(ApplicationError):
        document_import(text="Related Products\n- Roller\nPeople Also Ask\n- Why?\n", title="Ads", url=NEW_URL, actor=admin_user)
    assert not Document.objects.filter(source_url=NEW_URL).exists()
    assert not AuditLog.objects.filter(action="library.document_import").exists()


def test_imported_passages_are_searchable_at_once_and_gone_after_deletion(admin_user) -> None:
    document = document_import(text=ARTICLE, title="T", url=NEW_URL, actor=admin_user)
    ids = set(document.passages.values_list("pk", flat=True))
    assert set(search_passage_ids(["zymurgic", "sterile"], limit=3)) & ids  # "sterile" is in the article
    document_delete(document=document, actor=admin_user)
    assert not set(search_passage_ids(["sterile"], limit=50)) & ids


def test_an_edited_passage_is_found_by_its_new_words(admin_user) -> None:
    document = document_import(text=ARTICLE, title="T", url=NEW_URL, actor=admin_user)
    passage = document.passages.first()
    passage_update(passage=passage, heading=passage.heading, text="Quokkas avoid sunlight entirely.", actor=admin_user)
    assert search_passage_ids(["quokkas"], limit=3) == [passage.pk]
    assert AuditLog.objects.filter(action="library.passage_update", target_id=str(passage.pk)).count() == 1


def test_pin_create_writes_an_audit_row_and_a_duplicate_writes_nothing(admin_user) -> None:
    passage = Passage.objects.first()
    pin = pin_create(passage=passage, category="cell_transfer", rule_id="cell.harvest", note="n", actor=admin_user)
    audit = AuditLog.objects.get(action="library.pin_create")
    assert (audit.actor, audit.target_id, audit.after["category"], audit.after["rule_id"]) == (admin_user, str(pin.pk), "cell_transfer", "cell.harvest")

    with pytest.raises(ApplicationError) as error:
        pin_create(passage=passage, category="cell_transfer", rule_id="cell.harvest", actor=admin_user)
    assert error.value.status == 409
    assert AuditLog.objects.filter(action="library.pin_create").count() == 1
    assert Pin.objects.filter(passage=passage, category="cell_transfer").count() == 1


@pytest.mark.parametrize("category,rule_id", [("", ""), ("Not A Slug", ""), ("", "rule with spaces")])
def test_pin_create_refuses_a_missing_or_malformed_target(admin_user, category: str, rule_id: str) -> None:
    count = Pin.objects.count()
    with pytest.raises(ApplicationError):
        pin_create(passage=Passage.objects.first(), category=category, rule_id=rule_id, actor=admin_user)
    assert Pin.objects.count() == count
    assert not AuditLog.objects.filter(action="library.pin_create").exists()


def test_pin_delete_writes_the_pin_before_it_went_into_the_audit_row(admin_user) -> None:
    pin = Pin.objects.filter(category="koebner_risk").first()
    pin_id = pin.pk
    pin_delete(pin=pin, actor=admin_user)
    assert not Pin.objects.filter(pk=pin_id).exists()
    audit = AuditLog.objects.get(action="library.pin_delete")
    assert (audit.target_id, audit.before["category"]) == (str(pin_id), "koebner_risk")
