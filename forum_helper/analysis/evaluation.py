"""Score the detector against a labelled corpus (records with a `label`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from forum_helper.analysis.batch import BatchRecordError, record_to_inputs
from forum_helper.analysis.engine import analyze
from forum_helper.analysis.model import CATEGORIES, SEVERITIES
from forum_helper.analysis.ruleset import CompiledRuleset


@dataclass(frozen=True)
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 0.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True)
class Mistake:
    record_id: Any
    expected: Mapping[str, Any]
    predicted: Mapping[str, Any]


@dataclass(frozen=True)
class EvaluationReport:
    total: int
    risky: Score
    not_risky: Score
    categories: Mapping[str, Score]
    stance_correct: int
    severity_confusion: Mapping[tuple[str, str], int]  # (expected, predicted) -> count
    mistakes: tuple[Mistake, ...] = field(default_factory=tuple)

    @property
    def stance_accuracy(self) -> float:
        return self.stance_correct / self.total if self.total else 0.0


def evaluate(records: Iterable[Mapping[str, Any]], ruleset: CompiledRuleset) -> EvaluationReport:
    """Run the detector on labelled records.

    Per category, a category counts as predicted only when the post is predicted risky, and
    as gold only when the post is labelled risky.
    """
    tp = fp = fn = tn = 0
    category_counts = {name: [0, 0, 0] for name in CATEGORIES}
    stance_correct = 0
    confusion: dict[tuple[str, str], int] = {}
    mistakes: list[Mistake] = []
    total = 0
    for record in records:
        label = record.get("label")
        if not isinstance(label, Mapping) or not isinstance(label.get("risky"), bool):
            raise BatchRecordError(f"record {record.get('id')!r}: 'label' with a boolean 'risky' is required")
        post, context = record_to_inputs(record)
        analysis = analyze(post, context, ruleset)
        total += 1
        gold_risky = label["risky"]
        if analysis.risky and gold_risky:
            tp += 1
        elif analysis.risky:
            fp += 1
        elif gold_risky:
            fn += 1
        else:
            tn += 1
        predicted_categories = set(analysis.categories) if analysis.risky else set()
        gold_categories = set(label.get("categories", ())) if gold_risky else set()
        for name in predicted_categories | gold_categories:
            counts = category_counts.setdefault(name, [0, 0, 0])
            if name in predicted_categories and name in gold_categories:
                counts[0] += 1
            elif name in predicted_categories:
                counts[1] += 1
            else:
                counts[2] += 1
        stance_correct += analysis.stance == label.get("stance")
        key = (str(label.get("severity")), analysis.severity)
        confusion[key] = confusion.get(key, 0) + 1
        if (
            analysis.risky != gold_risky
            or predicted_categories != gold_categories
            or analysis.stance != label.get("stance")
            or analysis.severity != label.get("severity")
        ):
            mistakes.append(
                Mistake(
                    record_id=record.get("id"),
                    expected={key: label.get(key) for key in ("risky", "severity", "stance", "categories")},
                    predicted={
                        "risky": analysis.risky,
                        "severity": analysis.severity,
                        "stance": analysis.stance,
                        "categories": sorted(predicted_categories),
                    },
                )
            )
    return EvaluationReport(
        total=total,
        risky=Score(tp, fp, fn),
        not_risky=Score(tn, fn, fp),
        categories={name: Score(*counts) for name, counts in category_counts.items()},
        stance_correct=stance_correct,
        severity_confusion=confusion,
        mistakes=tuple(mistakes),
    )


def format_report(report: EvaluationReport) -> str:
    lines = [f"records: {report.total}", "", f"{'class':<22} {'P':>6} {'R':>6} {'F1':>6}  tp/fp/fn"]
    for name, score in (("risky", report.risky), ("not risky", report.not_risky)):
        lines.append(_score_line(name, score))
    lines += ["", "per category (risky posts only):"]
    for name in CATEGORIES:
        lines.append(_score_line(name, report.categories[name]))
    for name in sorted(set(report.categories) - set(CATEGORIES)):
        lines.append(_score_line(name, report.categories[name]))
    lines += ["", f"stance accuracy: {report.stance_accuracy:.3f} ({report.stance_correct}/{report.total})", ""]
    lines.append("severity confusion (rows: expected, columns: predicted):")
    lines.append(f"{'':<10}" + "".join(f"{name:>8}" for name in SEVERITIES))
    for expected in SEVERITIES:
        cells = "".join(f"{report.severity_confusion.get((expected, predicted), 0):>8}" for predicted in SEVERITIES)
        lines.append(f"{expected:<10}{cells}")
    return "\n".join(lines)


def _score_line(name: str, score: Score) -> str:
    return (
        f"{name:<22} {score.precision:>6.3f} {score.recall:>6.3f} {score.f1:>6.3f}  "
        f"{score.true_positives}/{score.false_positives}/{score.false_negatives}"
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m forum_helper.analysis.evaluation CORPUS.jsonl [--ruleset FILE]` (no Django)."""
    import argparse
    import json

    from forum_helper.analysis.learned import load_learned_model
    from forum_helper.analysis.ruleset import compile_ruleset, load_ruleset_document

    parser = argparse.ArgumentParser(description="Score the default (or given) ruleset on a labelled JSONL corpus.")
    parser.add_argument("corpus", nargs="+")
    parser.add_argument("--ruleset", default=None, help="ruleset JSON file (default: fixtures/analysis/default_ruleset.json)")
    parser.add_argument("--learned-model", default=None, help="learned reading JSON (default: fixtures/analysis/learned_model.json)")
    parser.add_argument("--rules-only", action="store_true", help="the rules alone, without the learned reading")
    args = parser.parse_args(argv)
    document = load_ruleset_document(args.ruleset)
    learned = None if args.rules_only else load_learned_model(args.learned_model)
    ruleset = compile_ruleset(document["rules"], version=document.get("version", 0), learned=learned)
    for path in args.corpus:
        with open(path, encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        print(f"== {path} (ruleset version {ruleset.version})")
        print(format_report(evaluate(records, ruleset)))


if __name__ == "__main__":
    main()
