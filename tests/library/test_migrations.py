import json

import pytest

from forum_helper.library.models import Document, Pin
from forum_helper.library.search import search_passage_ids
from tests.library.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_a_freshly_migrated_database_holds_the_four_seed_documents() -> None:
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    assert sorted(Document.objects.values_list("source_url", flat=True)) == sorted(e["url"] for e in manifest["documents"])
    for document in Document.objects.all():
        assert document.source_url.startswith("https://example.org/")
        assert document.passages.count() >= 10
        assert "Related Products" not in " ".join(document.passages.values_list("text", flat=True))
    assert Document.objects.get(source_url__endswith="co2-laser-vitiligo").dois == ["10.3389/fimmu.2023.1294919"]


@pytest.mark.parametrize(
    "category,phrase",
    [
        ("uv_combination", "penetration of ultraviolet (UV) radiation"),
        ("koebner_risk", "Koebner phenomenon"),
        ("drug_into_wounds", "absorption rate of topical medications"),
        ("wound_care_risk", "susceptible to infection"),
        ("home_needling", "darker skin tones"),
        ("darker_skin", "darker skin types tend to experience PIH"),
    ],
)
def test_the_seed_migration_pins_a_default_passage_per_category(category: str, phrase: str) -> None:
    assert any(phrase in pin.passage.text for pin in Pin.objects.filter(category=category).select_related("passage"))


def test_the_seeded_passages_are_in_the_full_text_index() -> None:
    assert search_passage_ids(["Koebner"], limit=3)
