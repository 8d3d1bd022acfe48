"""A reply is read with its thread: the title and parent supply the subject, the reply the stance."""

from __future__ import annotations

from forum_helper.analysis import CompiledRuleset, PostContext, PostInput, analyze

REPLY = "Stamp the patches first, then expose them to your lamp for a few seconds longer each time."


def test_your_lamp_is_uv_when_the_parent_names_a_uv_lamp(ruleset: CompiledRuleset) -> None:
    result = analyze(PostInput(REPLY, "staff"), PostContext(parent_text="I bought a home NB-UVB lamp for my vitiligo."), ruleset)
    assert "uv_combination" in result.categories


def test_your_lamp_alone_does_not_make_uv(ruleset: CompiledRuleset) -> None:
    result = analyze(PostInput(REPLY, "staff"), PostContext(), ruleset)
    assert "uv_combination" not in result.categories
    assert "home_needling" in result.categories


def test_a_bare_follow_up_question_inherits_the_thread_title(ruleset: CompiledRuleset) -> None:
    post = PostInput("Then do I continue to increase the time or maintain it?")
    assert analyze(post, PostContext(), ruleset).risky is False
    with_title = analyze(post, PostContext(thread_title="At home UVB session length?"), ruleset)
    assert (with_title.risky, with_title.stance, with_title.categories) == (True, "planning", ("uv_combination",))
    assert all(item.text == post.text[item.start : item.end] for item in with_title.evidence)


def test_earlier_thread_posts_resolve_the_lamp_too(ruleset: CompiledRuleset) -> None:
    earlier = (PostInput("My plan is NB-UVB at home after needling."), "thanks")
    result = analyze(PostInput(REPLY, "staff"), PostContext(thread_posts=earlier), ruleset)
    assert "uv_combination" in result.categories


def test_a_warning_reply_to_a_risky_parent_stays_a_warning(ruleset: CompiledRuleset) -> None:
    parent = "Should I roll my scars with 1mm while on accutane?"
    result = analyze(PostInput("nah, wait till you're 6 months off, it heals weird"), PostContext(parent_text=parent), ruleset)
    assert (result.risky, result.stance) == (False, "warning")
