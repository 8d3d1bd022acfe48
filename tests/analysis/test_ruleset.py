"""Rules are data: validation errors name the rule; modes decide what is compiled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forum_helper.analysis import (
    DEFAULT_RULESET_PATH,
    PostContext,
    PostInput,
    RulesetError,
    analyze,
    compile_ruleset,
    load_default_rules,
)
from forum_helper.analysis.ruleset import term_to_regex

NEEDLING = {"id": "t.needling", "kind": "lexicon", "category": "home_needling", "mode": "active",
            "description": "", "data": {"concept": "needling", "terms": ["derma roller"]}}
PLANNING = {"id": "t.plan", "kind": "stance_cue", "category": None, "mode": "active",
            "description": "", "data": {"stance": "planning", "regex": r"\bi want to\b"}}


def test_the_default_ruleset_file_loads_and_compiles() -> None:
    document = json.loads(Path(DEFAULT_RULESET_PATH).read_text(encoding="utf-8"))
    assert document["version"] >= 1
    ruleset = compile_ruleset(load_default_rules(), version=document["version"])
    assert ruleset.version == document["version"]
    assert len(ruleset.patterns) == len(ruleset.matchers) > 50


def test_every_default_rule_has_a_unique_stable_id_and_a_known_mode() -> None:
    rules = load_default_rules()
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert {rule["mode"] for rule in rules} <= {"active", "shadow", "disabled"}


def test_a_bad_regex_raises_a_ruleset_error_naming_the_rule() -> None:
    bad = {**NEEDLING, "id": "t.bad", "kind": "pattern", "data": {"concept": "x", "regex": "(unclosed"}}
    with pytest.raises(RulesetError) as raised:
        compile_ruleset([bad])
    assert raised.value.rule_id == "t.bad"
    assert "RE2" in str(raised.value)


def test_a_lookahead_that_re2_cannot_compile_is_rejected() -> None:
    bad = {**NEEDLING, "id": "t.lookahead", "kind": "pattern", "data": {"concept": "x", "regex": r"roll(?!ing scars)"}}
    with pytest.raises(RulesetError, match="t.lookahead"):
        compile_ruleset([bad])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"kind": "telepathy"}, "unknown kind"),
        ({"mode": "sometimes"}, "unknown mode"),
        ({"category": "sunburn"}, "unknown category"),
        ({"data": {"concept": "needling"}}, "data.terms or data.regex"),
        ({"data": {"concept": "needling", "terms": []}}, "at least one"),
        ({"id": ""}, "id must be"),
    ],
)
def test_invalid_rule_records_raise_clear_errors(change: dict, message: str) -> None:
    with pytest.raises(RulesetError, match=message):
        compile_ruleset([{**NEEDLING, **change}])


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(RulesetError, match="duplicate"):
        compile_ruleset([NEEDLING, NEEDLING])


def test_disabled_and_shadow_rules_are_not_compiled_unless_shadow_is_asked_for() -> None:
    shadow = {**NEEDLING, "id": "t.shadow", "mode": "shadow"}
    disabled = {**NEEDLING, "id": "t.disabled", "mode": "disabled"}
    assert len(compile_ruleset([shadow, disabled, PLANNING]).matchers) == 1
    with_shadow = compile_ruleset([shadow, disabled, PLANNING], include_shadow=True)
    assert [matcher.rule_id for matcher in with_shadow.matchers] == ["t.shadow", "t.plan"]


def test_a_minimal_two_rule_ruleset_flags_a_plan_and_records_the_rule_ids() -> None:
    ruleset = compile_ruleset([NEEDLING, PLANNING], version=7)
    result = analyze(PostInput("I want to buy a derma-roller."), PostContext(), ruleset)
    assert (result.risky, result.stance, result.categories) == (True, "planning", ("home_needling",))
    assert result.rule_ids == ("t.needling",)
    assert result.ruleset_version == 7


@pytest.mark.parametrize("written", ["dermaroller", "derma roller", "Derma-Roller", "DERMA.ROLLER"])
def test_a_lexicon_term_matches_its_spacing_and_case_variants(written: str) -> None:
    import re2

    from forum_helper.analysis.ruleset import re2_options

    assert re2.compile(term_to_regex("derma roller"), re2_options()).search(written)


def test_the_compiled_ruleset_is_immutable() -> None:
    ruleset = compile_ruleset([NEEDLING])
    with pytest.raises(AttributeError):
        ruleset.version = 3  # type: ignore[misc]


def test_a_concept_given_two_different_categories_is_rejected() -> None:
    drug = {**NEEDLING, "id": "t.drug", "category": None, "data": {"concept": "needling", "terms": ["tretinoin"]}}
    with pytest.raises(RulesetError, match="give each concept one category"):
        compile_ruleset([NEEDLING, drug])
