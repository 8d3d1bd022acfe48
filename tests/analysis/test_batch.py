"""The batch JSONL record interface."""

from __future__ import annotations

import json

import pytest

from forum_helper.analysis import CompiledRuleset
from forum_helper.analysis.batch import BatchRecordError, analyze_record


def test_a_record_comes_back_in_the_batch_output_shape(ruleset: CompiledRuleset) -> None:
    output = analyze_record(
        {"id": "p1", "text": "I want to buy a 1mm dermaroller and use it every week.", "author_role": "member", "extra": 1},
        ruleset,
    )
    assert list(output) == ["id", "risky", "severity", "stance", "categories", "modifiers", "evidence", "explanation", "references", "rule_ids"]
    assert output["id"] == "p1"
    assert (output["risky"], output["stance"], output["categories"]) == (True, "planning", ["home_needling"])
    assert output["references"] == []
    assert set(output["evidence"][0]) == {"start", "end", "text", "category", "rule"}
    json.dumps(output)  # JSON-serialisable as is


def test_thread_title_and_parent_are_read_as_context(ruleset: CompiledRuleset) -> None:
    output = analyze_record(
        {"id": 2, "text": "Then do I continue to increase the time or maintain it?", "thread_title": "At home UVB session length?"},
        ruleset,
    )
    assert output["risky"] is True
    assert "uv_combination" in output["categories"]


@pytest.mark.parametrize(
    "record, message",
    [
        ({"id": 1}, "missing required key 'text'"),
        ({"id": 1, "text": 42}, "'text' must be a string"),
        ({"id": 1, "text": "hi", "author_role": "admin"}, "'author_role' must be one of"),
        ({"id": 1, "text": "hi", "thread_title": ["x"]}, "'thread_title' must be a string"),
        (["not", "a", "dict"], "must be a JSON object"),
    ],
)
def test_a_bad_record_raises_a_clear_batch_record_error(record: object, message: str, ruleset: CompiledRuleset) -> None:
    with pytest.raises(BatchRecordError, match=message):
        analyze_record(record, ruleset)  # type: ignore[arg-type]
