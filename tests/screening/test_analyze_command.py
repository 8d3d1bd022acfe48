import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

SAMPLE_POSTS = json.loads((Path(__file__).resolve().parents[1] / "analysis" / "cases" / "sample_thread.json").read_text())


def run_analyze(tmp_path: Path, lines: list[str]) -> tuple[list[dict], CommandError | None]:
    source = tmp_path / "posts.jsonl"
    target = tmp_path / "findings.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    failure = None
    try:
        call_command("analyze", "--input", str(source), "--output", str(target))
    except CommandError as error:
        failure = error
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()], failure


def test_analyze_right_after_migrate_writes_one_finding_per_line_in_order(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "I bought a 1.5 mm dermaroller and will roll my face every 3 days, then apply tretinoin right after."}),
        json.dumps({"id": "b", "text": "Please don't needle at home; see a dermatologist.", "author_role": "staff", "extra": 1}),
        json.dumps({"id": "c", "text": "What moisturiser do you like for winter?"}),
    ]
    results, failure = run_analyze(tmp_path, lines)
    assert failure is None
    assert [r["id"] for r in results] == ["a", "b", "c"]
    assert results[0]["risky"] is True
    assert "home_needling" in results[0]["categories"]
    assert results[0]["severity"] == "high"
    for item in results[0]["evidence"]:
        assert json.loads(lines[0])["text"][item["start"]:item["end"]] == item["text"]
    assert results[1]["risky"] is False
    assert results[2]["severity"] == "none"
    assert set(results[0]) >= {"id", "risky", "severity", "stance", "categories", "modifiers", "evidence", "explanation", "references"}


def test_the_sample_opener_gets_reference_passages_for_its_categories(tmp_path: Path) -> None:
    opener = SAMPLE_POSTS[0] if isinstance(SAMPLE_POSTS, list) else SAMPLE_POSTS["posts"][0]
    results, failure = run_analyze(tmp_path, [json.dumps({"id": "opener", "text": opener["text"], "author_role": "member"})])
    assert failure is None
    linked = {reference["category"] for reference in results[0]["references"]}
    assert "uv_combination" in linked
    assert all(reference["passage_id"] for reference in results[0]["references"])


def test_bad_lines_get_error_objects_and_the_run_goes_on_with_a_failing_exit(tmp_path: Path) -> None:
    lines = [
        "{not json",
        json.dumps({"id": 7, "text": 12}),
        json.dumps({"id": 8}),
        json.dumps({"id": 9, "text": "fine", "author_role": "robot"}),
        json.dumps({"id": 10, "text": "A plain moisturiser question."}),
    ]
    results, failure = run_analyze(tmp_path, lines)
    assert failure is not None and "4 of 5 lines failed" in str(failure)
    assert [("error" in r) for r in results] == [True, True, True, True, False]
    assert results[1]["id"] == 7 and "text" in results[1]["error"]
    assert "author_role" in results[3]["error"]
    assert results[4]["id"] == 10


def test_analyze_reads_stdin_and_writes_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"id": "s", "text": "Is SPF 50 enough?"}) + "\n"))
    out = io.StringIO()
    call_command("analyze", stdout=out)
    assert json.loads(out.getvalue())["id"] == "s"


def test_evaluate_detector_prints_scores_for_each_corpus_file() -> None:
    out = io.StringIO()
    call_command("evaluate_detector", stdout=out)
    text = out.getvalue()
    assert "== dev.jsonl" in text and "== holdout.jsonl" in text
    assert "stance accuracy" in text and "severity confusion" in text


def test_evaluate_detector_names_a_missing_corpus() -> None:
    with pytest.raises(CommandError, match="no corpus at"):
        call_command("evaluate_detector", "--corpus", "/nonexistent/corpus.jsonl")


# A clinic laser followed by the author's own tanning-salon visit: the rules alone miss that the
# author plans it ("going to ... friday"); the learned reading, on by default, flags it.
CLINIC_THEN_SUNBED = "had my laser on tuesday at the clinic, going to the tanning salon friday so the redness blends in lol anyone done this?"


def test_analyze_reads_with_the_learned_reading_unless_it_is_switched_off(tmp_path: Path, settings) -> None:
    line = json.dumps({"id": "x", "text": CLINIC_THEN_SUNBED})
    [with_learned], _ = run_analyze(tmp_path, [line])
    settings.DETECTOR_LEARNED_READING = False
    [rules_alone], _ = run_analyze(tmp_path, [line])

    assert (with_learned["risky"], with_learned["stance"]) == (True, "planning")
    assert "uv_combination" in with_learned["categories"]
    assert "learned reading" in with_learned["explanation"]
    assert rules_alone["risky"] is False
