import json

import pytest

from forum_helper.library.models import Passage, Pin
from forum_helper.library.selectors import passages_for_finding
from forum_helper.library.services import pin_create, references_for_analysis
from tests.library.conftest import StandInAnalysis, StandInEvidence

pytestmark = pytest.mark.django_db

UV_PHRASE = "penetration of ultraviolet (UV) radiation"
KOEBNER_PHRASE = "trigger new lesions (the Koebner phenomenon)"


@pytest.fixture
def no_pins(db) -> None:
    Pin.objects.all().delete()


@pytest.mark.parametrize(
    "category,evidence,phrase",
    [
        ("uv_combination", ["then 30 seconds under my NB-UVB lamp"], UV_PHRASE),
        ("koebner_risk", ["I have vitiligo and I'll needle the patches"], KOEBNER_PHRASE),
    ],
)
def test_full_text_search_alone_links_the_passage_that_explains_the_category(no_pins, category, evidence, phrase) -> None:
    refs = passages_for_finding(categories=[category], evidence_texts=evidence)[category]
    assert phrase in Passage.objects.get(pk=refs[0].passage_id).text
    assert not any(ref.pinned for ref in refs)


def test_the_seed_pins_link_the_uv_and_koebner_passages_first() -> None:
    refs = passages_for_finding(categories=["uv_combination", "koebner_risk"])
    assert UV_PHRASE in Passage.objects.get(pk=refs["uv_combination"][0].passage_id).text
    assert refs["uv_combination"][0].pinned
    assert KOEBNER_PHRASE in Passage.objects.get(pk=refs["koebner_risk"][0].passage_id).text


def test_pinned_passages_come_before_search_matches_and_there_are_at_most_three(admin_user, no_pins) -> None:
    unrelated = Passage.objects.get(heading="Accelerating Re-epithelialization")
    pin_create(passage=unrelated, category="uv_combination", actor=admin_user)
    refs = passages_for_finding(categories=["uv_combination"], evidence_texts=["sun exposure", "UVB lamp"])["uv_combination"]
    assert len(refs) == 3
    assert [r.pinned for r in refs] == [True, False, False]
    assert refs[0].passage_id == unrelated.pk
    assert len({r.passage_id for r in refs}) == 3


def test_many_pins_still_give_three_passages(admin_user, no_pins) -> None:
    for passage in Passage.objects.all()[:5]:
        pin_create(passage=passage, category="diy_ablation", actor=admin_user)
    refs = passages_for_finding(categories=["diy_ablation"])["diy_ablation"]
    assert len(refs) == 3 and all(r.pinned for r in refs)


def test_a_rule_pin_applies_to_the_category_its_rule_produced_only(admin_user, no_pins) -> None:
    passage = Passage.objects.get(heading="Accelerating Re-epithelialization")
    pin_create(passage=passage, rule_id="uv.lamp_after_needling", actor=admin_user)
    refs = passages_for_finding(
        categories=["uv_combination", "koebner_risk"],
        rule_ids={"uv_combination": ["uv.lamp_after_needling"], "koebner_risk": ["koebner.vitiligo_needling"]},
    )
    assert refs["uv_combination"][0].passage_id == passage.pk and refs["uv_combination"][0].pinned
    assert passage.pk not in [r.passage_id for r in refs["koebner_risk"]]


def test_a_category_with_no_keywords_and_no_evidence_links_nothing() -> None:
    assert passages_for_finding(categories=["staff_author"]) == {}


def test_references_for_analysis_is_a_json_list_with_excerpts_of_at_most_300_characters() -> None:
    analysis = StandInAnalysis(
        categories=("uv_combination", "drug_into_wounds"),
        modifiers=("darker_skin", "staff_author"),
        evidence=(
            StandInEvidence(0, 11, "NB-UVB lamp", "uv_combination", "uv.lamp"),
            StandInEvidence(20, 28, "Protopic", "drug_into_wounds", "drug.after_needling"),
        ),
        rule_ids=("uv.lamp", "drug.after_needling"),
    )
    references = references_for_analysis(analysis=analysis)
    json.dumps(references)
    assert {r["category"] for r in references} == {"uv_combination", "drug_into_wounds", "darker_skin"}
    first = references[0]
    assert set(first) >= {"category", "passage_id", "document_id", "document_title", "heading", "excerpt", "url", "dois", "pinned"}
    assert first["category"] == "uv_combination" and first["pinned"] is True
    assert "ultraviolet" in first["excerpt"]
    assert first["dois"] == ["10.3389/fimmu.2023.1294919"]
    assert first["library_url"] == f"/library/documents/{first['document_id']}/#passage-{first['passage_id']}"
    assert all(len(r["excerpt"]) <= 300 for r in references)
    for category in ("uv_combination", "drug_into_wounds", "darker_skin"):
        assert 1 <= sum(r["category"] == category for r in references) <= 3


def test_links_follow_library_changes_made_after_they_were_first_built(superuser_client, no_pins) -> None:
    """Links are cached per library state: an edit, a pin and a deletion each show at once."""
    first = passages_for_finding(categories=["uv_combination"], evidence_texts=["UVB lamp"])["uv_combination"][0]
    superuser_client.post(
        f"/admin/library/passage/{first.passage_id}/change/",
        {"heading": first.heading, "text": "Micro-channels let UVB lamp light reach deeper layers. Edited."},
    )
    edited = passages_for_finding(categories=["uv_combination"], evidence_texts=["UVB lamp"])["uv_combination"]
    assert "Edited." in next(r.excerpt for r in edited if r.passage_id == first.passage_id)

    other = Passage.objects.exclude(pk__in=[r.passage_id for r in edited]).first()
    superuser_client.post("/admin/library/pin/add/", {"passage": other.pk, "category": "uv_combination", "rule_id": "", "note": ""})
    pinned = passages_for_finding(categories=["uv_combination"], evidence_texts=["UVB lamp"])["uv_combination"]
    assert (pinned[0].passage_id, pinned[0].pinned) == (other.pk, True)

    superuser_client.post(f"/admin/library/passage/{other.pk}/delete/", {"post": "yes"})
    after_delete = passages_for_finding(categories=["uv_combination"], evidence_texts=["UVB lamp"])["uv_combination"]
    assert other.pk not in [r.passage_id for r in after_delete]


def test_once_the_library_is_known_a_new_wording_costs_one_search_and_the_same_words_cost_nothing(
    django_assert_max_num_queries, django_assert_num_queries
) -> None:
    from django.db import connection

    from forum_helper.library.selectors import library_stamp

    stamp = library_stamp()
    first = passages_for_finding(categories=["uv_combination"], evidence_texts=["then 30 seconds under my NB-UVB lamp"], stamp=stamp)
    # The search (SQLite: plus its check that the rows still exist), and the passages it found
    # that no earlier link used; the pins are not read again.
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 3):
        other = passages_for_finding(categories=["uv_combination"], evidence_texts=["my home UVB lamp, 40 seconds"], stamp=stamp)
    with django_assert_num_queries(0):
        same_words = passages_for_finding(categories=["uv_combination"], evidence_texts=["My home UVB lamp 40 seconds!"], stamp=stamp)

    assert first["uv_combination"][0].pinned and other["uv_combination"][0].pinned
    assert same_words == other


def test_a_reference_as_json_carries_every_field_of_the_passage_ref() -> None:
    from dataclasses import asdict

    refs = passages_for_finding(categories=["uv_combination", "koebner_risk"])
    for ref in refs["uv_combination"] + refs["koebner_risk"]:
        assert ref.to_dict() == {**asdict(ref), "dois": list(ref.dois)}
