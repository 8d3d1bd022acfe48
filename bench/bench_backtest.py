"""Benchmark the rules backtest: N stored posts (default 100,000) in a throwaway database.

    .venv/bin/python bench/bench_backtest.py [--posts N] [--rule-file rule.json | --change KIND ... | --all-changes]

Uses DATABASE_URL when set (a throwaway `test_<name>` database is created and dropped there),
else a temporary SQLite file. Prints the bare baseline (a plain loop over the same
`.values_list` rows doing only one RE2 Set scan), then one line per change: seconds (wall, with
change_resolve), CPU seconds of this process (a forked second process is not counted), posts/s,
the ratio to the baseline, the prefilter strategy, posts analysed and the deltas. The built-in
changes (CHANGES) cover each kind of rule change; --verify also replays every post and says
whether the deltas are the same.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum_helper.config.settings.test")

FILLER = [
    "My skin has been really dry this winter, any moisturiser recommendations?",
    "I switched to a fragrance free cleanser and it helped a lot with the redness.",
    "Does anyone know if niacinamide and vitamin C can be used together in the morning?",
    "Sunscreen every day is the one thing that actually made a difference for me.",
    "My dermatologist said to give the new routine at least six weeks before judging it.",
    "What do you all think about double cleansing, is it worth it for oily skin?",
    "Patch test first, I learned the hard way with a new serum last year.",
    "I have combination skin and the T-zone gets shiny by lunch time.",
    "Thanks everyone for the replies, I booked an appointment with a clinic.",
    "Hyaluronic acid on damp skin works better for me than on dry skin.",
    "The redness around my nose comes and goes, maybe it's rosacea?",
    "Is a ceramide cream enough at night or should I add something else?",
]


def texts_for(n: int, seed: int = 7) -> list[str]:
    """Mostly ordinary skincare chat; about 5% are the corpus' labelled posts (risky and not)."""
    rng = random.Random(seed)
    corpus: list[str] = []
    for name in ("dev.jsonl", "holdout.jsonl"):
        path = ROOT / "fixtures" / "analysis" / "corpus" / name
        if path.exists():
            corpus += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = []
    for index in range(n):
        if corpus and rng.random() < 0.05:
            texts.append(rng.choice(corpus))
        else:
            texts.append(" ".join(rng.sample(FILLER, rng.randint(2, 5))) + f" (#{index})")
    return texts


def populate(n: int) -> None:
    from forum_helper.intake.models import ForumSource, Post, PostVersion, Thread

    source = ForumSource.objects.create(slug="bench", kind=ForumSource.Kind.IMPORT)
    per_thread = 10
    threads = Thread.objects.bulk_create(
        [Thread(source=source, external_id=f"t{i}", title=f"Thread {i} about skin") for i in range((n + per_thread - 1) // per_thread)],
        batch_size=5000,
    )
    texts = texts_for(n)
    for start in range(0, n, 5000):
        stop = min(n, start + 5000)
        posts = Post.objects.bulk_create(
            [
                Post(source=source, thread=threads[i // per_thread], external_id=f"p{i}", position=i % per_thread + 1, current_version=1)
                for i in range(start, stop)
            ]
        )
        PostVersion.objects.bulk_create(
            [PostVersion(post=post, version=1, raw_text=texts[i], text_sha256="-") for i, post in zip(range(start, stop), posts)]
        )


def _edited(rule_id: str, **data_changes: object) -> dict:
    """The current record of a rule with some of its `data` replaced."""
    from forum_helper.rules.models import Rule

    record = Rule.objects.get(rule_id=rule_id).as_record()
    record["data"] = {**record["data"], **data_changes}
    return record


def default_change() -> dict:
    """An edit of the first active categorised lexicon rule: one more term."""
    from forum_helper.rules.models import Rule

    rule = Rule.objects.filter(kind="lexicon", mode="active", category__isnull=False).order_by("position").first()
    record = rule.as_record()
    data = dict(record["data"])
    if "terms" in data:
        data["terms"] = [*data["terms"], "derma wheel"]
    record["data"] = data
    return record


def _regex_plus(rule_id: str, extra: str) -> dict:
    from forum_helper.rules.models import Rule

    return _edited(rule_id, regex=Rule.objects.get(rule_id=rule_id).data["regex"] + "|" + extra)


VERIFIED_KEYS = ("newly_flagged", "no_longer_flagged", "severity_changes", "rule_hits_before", "rule_hits_after", "post_version_ids")

# One representative change per kind of rule change: `change_resolve` keyword arguments.
CHANGES: dict[str, Callable[[], dict]] = {
    "lexicon": lambda: {"record": default_change()},
    "pattern": lambda: {"record": _regex_plus("needling.needle_verb", r"\bpoked\s+(?:it|them|my)\b")},
    "stance_cue": lambda: {"record": _regex_plus("planning.intent_words", r"\bfixing\s+to\b")},
    "stance_weight": lambda: {"record": _edited("warning.risk_word", weight=1.0)},
    "person_cue": lambda: {"record": _regex_plus("person.first", r"\bmeself\b")},
    "negation_cue": lambda: {"record": _edited("negation.cues", scope_chars=60)},
    "combination": lambda: {"record": _edited("combo.occlusion_of_wounds", any=["needling", "ablation", "wound_state", "cell_transfer", "procedure", "friction"])},
    "severity": lambda: {"record": _edited("severity.injury_plus_uv_or_drug", severity="medium")},
    "explanation": lambda: {"record": _edited("explanation.home_needling", text="Home skin needling: breaks the skin barrier without a clinician.")},
    "disable_lexicon": lambda: {"rule_id": "needling.device", "mode": "disabled"},
    "disable_combination": lambda: {"rule_id": "combo.drug_into_wounds", "mode": "disabled"},
    "disable_severity": lambda: {"rule_id": "severity.cell_transfer", "mode": "disabled"},
    "shadow_stance_cue": lambda: {"rule_id": "warning.psa", "mode": "shadow"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--rule-file", type=Path, help="A proposed rule record (default: one more term on a lexicon rule).")
    which.add_argument("--change", action="append", choices=sorted(CHANGES), help="A built-in change of this kind (repeatable).")
    which.add_argument("--all-changes", action="store_true", help="Every built-in change, one after the other.")
    parser.add_argument("--verify", action="store_true", help="Also replay every post and compare the deltas (slow).")
    parser.add_argument(
        "--default-mem-baseline",
        action="store_true",
        help="Also time the bare scan with RE2's default DFA memory (8 MiB), as this benchmark measured it before.",
    )
    args = parser.parse_args()

    tmpdir = None
    if not os.environ.get("DATABASE_URL"):
        tmpdir = tempfile.TemporaryDirectory(prefix="fh-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmpdir.name}/bench.sqlite3"

    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if tmpdir is not None:
            tmpdir.cleanup()


def run(args: argparse.Namespace) -> None:
    from forum_helper.rules.backtest import (
        BacktestFilters, _stored_versions, backtest_compute, change_resolve, prefilter_set,
    )
    from forum_helper.analysis.ruleset import RE2_MAX_MEM

    started = time.perf_counter()
    populate(args.posts)
    print(f"setup_seconds {time.perf_counter() - started:.1f}", file=sys.stderr)

    if args.rule_file:
        changes = {"rule_file": {"record": json.loads(args.rule_file.read_text())}}
    else:
        kinds = sorted(CHANGES) if args.all_changes else (args.change or ["lexicon"])
        changes = {kind: CHANGES[kind]() for kind in kinds}

    # The bare-framework baseline: the same rows, only one RE2 Set scan (of every pattern), built
    # as the backtest builds its prefilter Set (prefilter_set: the same DFA memory budget).
    change = change_resolve(**next(iter(changes.values())))
    started, cpu_started = time.perf_counter(), time.process_time()
    match, hits = prefilter_set(change.baseline.patterns).Match, 0
    rows = _stored_versions(BacktestFilters()).values_list("pk", "raw_text", "post__thread_id", "post__thread__title")
    for _pv_id, text, _thread_id, _title in rows.iterator(chunk_size=2000):
        if match(text) is not None:
            hits += 1
    baseline, baseline_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"baseline_seconds {baseline:.2f} (values_list + RE2 Set scan of every pattern, "
        f"DFA budget {RE2_MAX_MEM >> 20} MiB, {hits} matches)"
    )
    print(f"baseline_cpu_seconds {baseline_cpu:.2f}")
    if args.default_mem_baseline:
        import re2

        options = re2.Options()
        options.case_sensitive, options.never_capture = False, True
        default_set = re2.Set.SearchSet(options)
        for pattern in change.baseline.patterns:
            default_set.Add(pattern)
        default_set.Compile()
        started, cpu_started = time.perf_counter(), time.process_time()
        for _pv_id, text, _thread_id, _title in rows.iterator(chunk_size=2000):
            default_set.Match(text)
        print(
            f"baseline_default_mem_seconds {time.perf_counter() - started:.2f} "
            f"(the same scan, RE2's default DFA memory) cpu {time.process_time() - cpu_started:.2f}"
        )

    for kind, change_args in changes.items():
        started, cpu_started = time.perf_counter(), time.process_time()
        change = change_resolve(**change_args)
        result = backtest_compute(change=change, filters=BacktestFilters())
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(
            f"{kind}: rule {change.changed_id} posts {result['scanned']} seconds {seconds:.2f} cpu_seconds {cpu:.2f} "
            f"posts_per_second {result['scanned'] / seconds:.0f} ratio {seconds / baseline:.2f} "
            f"strategy={result.get('strategy', '-')} analysed={result['analysed']} "
            f"newly_flagged={result['newly_flagged']} no_longer_flagged={result['no_longer_flagged']} "
            f"severity_changed={result['severity_changed']}",
            flush=True,
        )
        if args.verify:
            reference = backtest_compute(change=change, filters=BacktestFilters(), replay_all=True)
            same = all(reference[key] == result[key] for key in VERIFIED_KEYS)
            print(f"{kind}: verify {'same' if same else 'DIFFERENT'} as a full replay ({reference['seconds']:.1f} s)", flush=True)
    print(f"load_average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
