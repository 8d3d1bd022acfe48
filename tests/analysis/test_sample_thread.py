"""The canonical SMF thread (shared/seeds/sample-thread.txt), split into its four posts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forum_helper.analysis import Analysis, CompiledRuleset, PostContext, PostInput, analyze

CASES = Path(__file__).parent / "cases" / "sample_thread.json"


@pytest.fixture(scope="module")
def thread(ruleset: CompiledRuleset) -> dict[str, Analysis]:
    posts = json.loads(CASES.read_text(encoding="utf-8"))["posts"]
    results: dict[str, Analysis] = {}
    earlier: list[str] = []
    for post in posts:
        context = PostContext(
            thread_title=post["thread_title"],
            parent_text=earlier[-1] if earlier else "",
            thread_posts=tuple(earlier),
        )
        results[post["id"]] = analyze(PostInput(post["text"], post["author_role"]), context, ruleset)
        earlier.append(post["text"])
    return results


def test_the_opener_is_a_high_risk_plan_with_every_combination(thread: dict[str, Analysis]) -> None:
    opener = thread["sample-opener"]
    assert (opener.risky, opener.stance, opener.severity) == (True, "planning", "high")
    assert {"home_needling", "cell_transfer", "uv_combination", "drug_into_wounds", "wound_care_risk"} <= set(opener.categories)
    assert "darker_skin" in opener.modifiers


def test_the_opener_marks_type_iv_skin_as_darker_skin_evidence(thread: dict[str, Analysis]) -> None:
    spans = [item.text for item in thread["sample-opener"].evidence if item.category == "darker_skin"]
    assert any("type IV" in span for span in spans)


def test_the_first_staff_reply_explains_and_is_not_risky(thread: dict[str, Analysis]) -> None:
    reply = thread["sample-reply-1"]
    assert reply.risky is False
    assert reply.categories == ()
    assert "staff_author" in reply.modifiers


def test_the_members_follow_up_about_clinic_laser_is_not_high(thread: dict[str, Analysis]) -> None:
    assert thread["sample-reply-2"].severity != "high"
    assert thread["sample-reply-2"].risky is False


def test_the_second_staff_reply_recommends_the_whole_protocol_at_high_severity(thread: dict[str, Analysis]) -> None:
    reply = thread["sample-reply-3"]
    assert (reply.risky, reply.stance, reply.severity) == (True, "recommending", "high")
    assert {"home_needling", "cell_transfer", "drug_into_wounds", "uv_combination"} <= set(reply.categories)
    assert "staff_author" in reply.modifiers
    assert reply.measures.needle_mm == 1.0


def test_the_second_staff_reply_without_context_is_still_high(ruleset: CompiledRuleset) -> None:
    posts = json.loads(CASES.read_text(encoding="utf-8"))["posts"]
    result = analyze(PostInput(posts[3]["text"], "staff"), PostContext(), ruleset)
    assert (result.risky, result.severity) == (True, "high")
