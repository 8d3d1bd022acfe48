"""Evidence spans are str offsets into the original text, also with non-ASCII characters."""

from __future__ import annotations

import pytest

from forum_helper.analysis import CompiledRuleset, PostContext, PostInput, analyze

NON_ASCII_POSTS = [
    "I’ve been using my “Dr.Pen” at 1mm every week – then tretinoin right after 😅",
    "Café owner here 👋🏽 — j’ai une peau foncée. I’m going to buy a 1.5 mm dermaroller and roll my cheeks every 5 days.",
    "ok so 🙃🙃🙃 i just got a 0.5mm dermaroller off amazon… planning to start this weekend, every 7 days? é ü ß",
    "Ich habe Vitiligo 🤍 and I stamp the white patches with a derma stamp daily, then 2 min in the sun ☀️.",
]


@pytest.mark.parametrize("text", NON_ASCII_POSTS)
def test_every_evidence_span_equals_the_slice_of_the_original_text(text: str, ruleset: CompiledRuleset) -> None:
    result = analyze(PostInput(text), PostContext(), ruleset)
    assert result.risky is True
    assert result.evidence
    for item in result.evidence:
        assert item.text == text[item.start : item.end]
        assert 0 <= item.start < item.end <= len(text)


def test_a_span_after_an_emoji_points_at_the_right_word(ruleset: CompiledRuleset) -> None:
    text = "😅😅 I roll my face with a dermaroller every week"
    result = analyze(PostInput(text), PostContext(), ruleset)
    device = [item for item in result.evidence if item.text.lower() == "dermaroller"]
    assert device and device[0].start == text.index("dermaroller")


def test_every_reported_category_and_text_modifier_has_evidence(ruleset: CompiledRuleset) -> None:
    text = "I'm type V. I stamp my vitiligo with a 1mm dermastamp every 3 days and put Protopic on right after."
    result = analyze(PostInput(text, "staff"), PostContext(), ruleset)
    for name in result.categories + tuple(m for m in result.modifiers if m != "staff_author"):
        assert any(item.category == name for item in result.evidence), name
    assert "staff_author" in result.modifiers
