"""Engine behaviour replayed from data: every tests/analysis/cases/*.jsonl record is one case.

A case holds the batch input keys plus `expect`: `risky`, and optionally `stance`,
`severity`, `categories_include`, `categories_exclude`, `modifiers_include`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from forum_helper.analysis import CompiledRuleset, analyze
from forum_helper.analysis.batch import record_to_inputs

CASE_FILES = sorted((Path(__file__).parent / "cases").glob("*.jsonl"))
CASES = [json.loads(line) for path in CASE_FILES for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_the_engine_reads_the_case_as_labelled(case: dict[str, Any], ruleset: CompiledRuleset) -> None:
    expect = case["expect"]
    post, context = record_to_inputs(case)
    result = analyze(post, context, ruleset)
    assert result.risky is expect["risky"]
    if "stance" in expect:
        assert result.stance == expect["stance"]
    if "severity" in expect:
        assert result.severity == expect["severity"]
    assert set(expect.get("categories_include", ())) <= set(result.categories)
    assert not set(expect.get("categories_exclude", ())) & set(result.categories)
    assert set(expect.get("modifiers_include", ())) <= set(result.modifiers)
    if not result.risky:
        assert result.categories == ()
