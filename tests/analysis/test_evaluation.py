"""Scoring against a labelled corpus."""

from __future__ import annotations

import json

import pytest

from forum_helper.analysis import CompiledRuleset
from forum_helper.analysis.batch import BatchRecordError
from forum_helper.analysis.evaluation import evaluate, format_report, main

RISKY_PLAN = {
    "id": "a", "text": "I want to roll my face with a 1.5mm dermaroller every week.",
    "label": {"risky": True, "severity": "medium", "stance": "planning", "categories": ["home_needling"], "modifiers": []},
}
WARNING = {
    "id": "b", "text": "Please don't needle at home, see a dermatologist.",
    "label": {"risky": False, "severity": "low", "stance": "warning", "categories": [], "modifiers": []},
}
MISSED = {
    "id": "c", "text": "Lovely weather today.",
    "label": {"risky": True, "severity": "high", "stance": "planning", "categories": ["cell_transfer"], "modifiers": []},
}


def test_evaluate_counts_risky_and_category_outcomes(ruleset: CompiledRuleset) -> None:
    report = evaluate([RISKY_PLAN, WARNING, MISSED], ruleset)
    assert report.total == 3
    assert (report.risky.true_positives, report.risky.false_positives, report.risky.false_negatives) == (1, 0, 1)
    assert report.risky.precision == 1.0 and report.risky.recall == 0.5
    assert report.categories["home_needling"].true_positives == 1
    assert report.categories["cell_transfer"].false_negatives == 1
    assert report.stance_correct == 3 - 1  # the missed post is predicted neutral
    assert report.severity_confusion[("high", "none")] == 1
    assert [mistake.record_id for mistake in report.mistakes] == ["c"]


def test_format_report_prints_scores_stance_accuracy_and_severity_confusion(ruleset: CompiledRuleset) -> None:
    text = format_report(evaluate([RISKY_PLAN, WARNING], ruleset))
    assert "risky" in text and "not risky" in text
    assert "home_needling" in text
    assert "stance accuracy: 1.000" in text
    assert "severity confusion" in text


def test_a_record_without_a_label_is_rejected(ruleset: CompiledRuleset) -> None:
    with pytest.raises(BatchRecordError, match="label"):
        evaluate([{"id": "x", "text": "hi"}], ruleset)


def test_the_command_line_scores_with_the_learned_reading_or_the_rules_alone(tmp_path, capsys) -> None:
    corpus = tmp_path / "one.jsonl"
    text = "had my laser on tuesday at the clinic, going to the tanning salon friday so the redness blends in lol anyone done this?"
    corpus.write_text(json.dumps({"id": "x", "text": text, "label": {"risky": True, "stance": "planning"}}) + "\n")

    main([str(corpus)])
    with_learned = capsys.readouterr().out
    main([str(corpus), "--rules-only"])
    rules_alone = capsys.readouterr().out

    def risky_line(out: str) -> str:
        return next(line for line in out.splitlines() if line.startswith("risky "))

    assert risky_line(with_learned).endswith("1/0/0")
    assert risky_line(rules_alone).endswith("0/0/1")
