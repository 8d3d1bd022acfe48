"""Educational articles name every risky word but plan, recommend and report nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum_helper.analysis import CompiledRuleset, PostContext, PostInput, analyze

# Copies of shared/seeds/reference-*.txt, kept with the tests so they run anywhere.
ARTICLES = sorted((Path(__file__).parent / "cases" / "reference_articles").glob("reference-*.txt"))


def test_the_four_reference_articles_are_present() -> None:
    assert len(ARTICLES) == 4


@pytest.mark.parametrize("article", ARTICLES, ids=lambda path: path.stem)
def test_a_reference_article_is_not_risky(article: Path, ruleset: CompiledRuleset) -> None:
    result = analyze(PostInput(article.read_text(encoding="utf-8"), "unknown"), PostContext(), ruleset)
    assert result.risky is False
    assert result.categories == ()
    assert result.severity in ("low", "none")
