"""Numbers read from a post: needle length, acid strength, exposure time, schedule interval."""

from __future__ import annotations

import pytest

from forum_helper.analysis import CompiledRuleset, Measures, PostContext, PostInput, analyze


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I roll my cheeks with a 1.0 mm dermaroller every 5 days.", Measures(needle_mm=1.0, interval_days=5.0)),
        ("i do the 0.5 roller on my beard every other day", Measures(needle_mm=0.5, interval_days=2.0)),
        ("Planning a 35% TCA cross at home once a month.", Measures(acid_percent=35.0, interval_days=30.0)),
        ("I stamp my patches then sit under my home UVB lamp for 40 sec, twice a week.", Measures(exposure_seconds=40.0, interval_days=3.0)),
        ("After needling I go on the sunbed for 10 minutes weekly.", Measures(exposure_seconds=600.0, interval_days=7.0)),
    ],
)
def test_the_numbers_in_a_post_are_extracted(text: str, expected: Measures, ruleset: CompiledRuleset) -> None:
    assert analyze(PostInput(text), PostContext(), ruleset).measures == expected


def test_a_depth_of_at_least_one_millimetre_repeated_weekly_is_explained(ruleset: CompiledRuleset) -> None:
    result = analyze(PostInput("I roll my face with a 1.5mm dermaroller every week."), PostContext(), ruleset)
    assert "repeated_plan" in result.modifiers
    assert ">= 1 mm" in result.explanation


def test_a_millimetre_size_in_educational_text_is_not_a_needle_length(ruleset: CompiledRuleset) -> None:
    result = analyze(PostInput("The epidermis is 0.1 - 0.3 mm thick on the face."), PostContext(), ruleset)
    assert result.measures.needle_mm is None
