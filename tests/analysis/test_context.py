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


def test_analyze_many_gives_each_post_what_analyze_gives_it_and_reads_shared_thread_texts_once(
    ruleset: CompiledRuleset, monkeypatch
) -> None:
    import json
    from pathlib import Path

    from forum_helper.analysis import analyze_many
    from forum_helper.analysis import engine

    corpus = Path(__file__).resolve().parents[2] / "fixtures" / "analysis" / "corpus" / "dev.jsonl"
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    opener = "Planning to dermastamp my vitiligo patches with 1mm, then NB-UVB at home straight after."
    # Replies of one thread (the opener as title, parent and earlier post), then the corpus posts
    # with their own contexts: shared texts must not leak from one post's reading into another's.
    items = [
        (PostInput(text, role), PostContext(thread_title="Home needling + UVB", parent_text=opener, thread_posts=(opener,)))
        for text, role in [("yes do it weekly", "staff"), ("how long under the lamp after?", "member"),
                           ("please don't, see a derm", "member"), ("Same here, 2 min each time.", "member")]
    ] + [
        (PostInput(r["text"], r.get("author_role", "unknown")),
         PostContext(thread_title=r.get("thread_title", ""), parent_text=r.get("parent_text", "")))
        for r in records
    ]
    one_by_one = [analyze(post, context, ruleset) for post, context in items]

    reads: list[str] = []
    real_read = engine._read
    monkeypatch.setattr(engine, "_read", lambda text, *args, **kwargs: reads.append(text) or real_read(text, *args, **kwargs))
    together = analyze_many(items, ruleset)
    opener_reads_for_four_replies = reads.count(opener)
    reads.clear()
    analyze_many(items[:1], ruleset)

    assert together == one_by_one
    assert opener_reads_for_four_replies == reads.count(opener)  # not once more per reply
