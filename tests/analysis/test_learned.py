"""The learned second reading: its arithmetic matches scikit-learn's, the stored weights are what
training gives from the labelled posts in the repository, and the engine lets it overrule the
rules only within the limits it promises (evidence kept, no category the rules did not find)."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from forum_helper.analysis import CompiledRuleset, PostInput, analyze
from forum_helper.analysis.engine import LEARNED_RULE_ID
from forum_helper.analysis.learned import DEFAULT_MODEL_PATH, LearnedModel
from forum_helper.analysis.model import STANCES
from forum_helper.analysis.training import (
    DEFAULT_CASES_DIR,
    DEFAULT_CORPUS_DIR,
    export,
    fit,
    labelled_records,
    training_paths,
)

TINY_CORPUS = [
    ("Ordering a 1mm roller tonight, will roll every week", True, "planning"),
    ("I roll 1.5mm every 3 days and put tret on right after", True, "reporting"),
    ("You should stamp the patches then use the lamp", True, "recommending"),
    ("Please don't roll at home, the infection risk is real", False, "warning"),
    ("Never put tretinoin on freshly needled skin", False, "warning"),
    ("My dermatologist did the microneedling in her office", False, "neutral"),
    ("Needling makes channels that raise absorption", False, "neutral"),
    ("I roll every week with a 0.5mm roller", True, "reporting"),
]


def _records(rows: list[tuple[str, bool, str]]) -> list[dict[str, Any]]:
    return [{"text": text, "thread_title": "", "parent_text": "", "risky": risky, "stance": stance} for text, risky, stance in rows]


def test_the_plain_python_reading_gives_scikit_learns_probabilities() -> None:
    records = _records(TINY_CORPUS)
    vectorizer, risky, stance = fit(records)
    model = LearnedModel.from_document(export(vectorizer, risky, stance))
    unseen = _records([("ok ordering the roller, every 3 days then tret", True, "planning"), ("don't do this at home", False, "warning")])
    features = vectorizer.transform(unseen)
    for record, risky_row, stance_row in zip(unseen, risky.predict_proba(features), stance.predict_proba(features)):
        reading = model.read(record["text"])
        assert reading.risky_probability == pytest.approx(risky_row[list(risky.classes_).index(True)], abs=1e-3)
        for name, probability in zip(stance.classes_, stance_row):
            assert reading.stance_probabilities[name] == pytest.approx(probability, abs=1e-3)


def test_the_stored_model_is_what_training_on_the_repositorys_labelled_posts_gives() -> None:
    """Whoever adds a corpus or a case retrains (`python -m forum_helper.analysis.training`)."""
    paths = training_paths(DEFAULT_CORPUS_DIR, DEFAULT_CASES_DIR, ())
    fresh = export(*fit(labelled_records(paths)), trained_on=[path.name for path in paths])
    stored = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    assert stored["trained_on"] == fresh["trained_on"]
    for key in ("veto_below", "rescue_above", "rescue_report_above", "stances"):
        assert stored[key] == fresh[key]
    assert stored["terms"].keys() == fresh["terms"].keys()
    assert stored["risky_intercept"] == pytest.approx(fresh["risky_intercept"], abs=1e-3)
    worst = max(
        max(abs(a - b) for a, b in zip([idf, weight, *stance_weights], [f_idf, f_weight, *f_stance]))
        for term, (idf, weight, stance_weights) in stored["terms"].items()
        for f_idf, f_weight, f_stance in [fresh["terms"][term]]
    )
    assert worst < 1e-3


def _constant_model(risky_probability: float, stance: str) -> LearnedModel:
    """A model that reads every post the same way: no terms, only intercepts."""
    return LearnedModel(
        terms={},
        risky_intercept=math.log(risky_probability / (1 - risky_probability)),
        stances=STANCES,
        stance_intercepts=tuple(5.0 if name == stance else 0.0 for name in STANCES),
        veto_below=0.3,
        rescue_above=0.5,
        rescue_report_above=0.8,
    )


@pytest.fixture(scope="module")
def rules_alone(ruleset: CompiledRuleset) -> CompiledRuleset:
    return dataclasses.replace(ruleset, learned=None)


@pytest.fixture(scope="module")
def ruleset_with(ruleset: CompiledRuleset):
    """The default rules (compiled once per session) read with the given learned model."""
    return lambda model: dataclasses.replace(ruleset, learned=model)


PLAN = PostInput("I bought a 1.5 mm dermaroller and will roll my face every 3 days, then apply tretinoin right after.")
WARNING = PostInput("Please don't roll at home with a 1.5 mm dermaroller, see a dermatologist.")
NOTHING = PostInput("Thanks, good luck with your skin!")
PAST_REPORT = PostInput("I tried a 0.5mm roller once back in 2018 and didn't see anything, tossed it.")


def test_a_confident_not_a_plan_overrules_the_rules_and_keeps_their_evidence_as_mentions(rules_alone, ruleset_with) -> None:
    by_rules = analyze(PLAN, None, rules_alone)
    assert by_rules.risky and LEARNED_RULE_ID not in by_rules.rule_ids

    result = analyze(PLAN, None, ruleset_with(_constant_model(0.05, "neutral")))

    assert (result.risky, result.categories, result.stance, result.severity) == (False, (), "neutral", "low")
    assert {item.category for item in result.evidence} >= {"home_needling"}
    assert LEARNED_RULE_ID in result.rule_ids
    assert "learned reading" in result.explanation


def test_a_confident_plan_overrules_the_rules_only_with_categories_they_found(ruleset_with) -> None:
    model = _constant_model(0.95, "planning")

    flagged = analyze(WARNING, None, ruleset_with(model))
    untouched = analyze(NOTHING, None, ruleset_with(model))

    assert (flagged.risky, flagged.stance) == (True, "planning")
    assert "home_needling" in flagged.categories
    for category in flagged.categories:
        assert any(item.category == category and WARNING.text[item.start : item.end] == item.text for item in flagged.evidence)
    assert LEARNED_RULE_ID in flagged.rule_ids
    assert (untouched.risky, untouched.categories, untouched.evidence) == (False, (), ())


def test_a_report_the_rules_read_as_finished_stays_finished_unless_the_reading_is_very_sure(rules_alone, ruleset_with) -> None:
    by_rules = analyze(PAST_REPORT, None, rules_alone)
    assert (by_rules.risky, by_rules.stance) == (False, "reporting")

    fairly_sure = analyze(PAST_REPORT, None, ruleset_with(_constant_model(0.75, "planning")))
    very_sure = analyze(PAST_REPORT, None, ruleset_with(_constant_model(0.9, "reporting")))

    assert (fairly_sure.risky, fairly_sure.stance) == (False, "reporting")
    assert (very_sure.risky, very_sure.stance, very_sure.categories) == (True, "reporting", ("home_needling",))


def test_between_the_thresholds_the_rules_verdict_stands_and_the_stance_is_learned(ruleset_with) -> None:
    plan = analyze(PLAN, None, ruleset_with(_constant_model(0.4, "recommending")))
    warning = analyze(WARNING, None, ruleset_with(_constant_model(0.4, "neutral")))

    assert (plan.risky, plan.stance) == (True, "recommending")
    assert (warning.risky, warning.stance) == (False, "neutral")
    assert LEARNED_RULE_ID not in plan.rule_ids + warning.rule_ids
