"""Replay a proposed rule change over stored posts: current ruleset vs the ruleset with the change.

Only posts the change can affect are analysed when the changed rule's terms are known: one RE2
Set of the old and new rule's terms scans every stored text, and a post is analysed when the set
matches its text or the thread around it (title or another post). Other rule kinds are replayed
over every post.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timezone as dt_timezone
from typing import Any

import re2
from django.db.models import F, QuerySet

from forum_helper.analysis import Analysis, CompiledRuleset, PostContext, PostInput, analyze, compile_ruleset
from forum_helper.analysis.ruleset import MATCHER_KINDS
from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake.models import PostVersion
from forum_helper.rules.models import Rule, RuleMode
from forum_helper.rules.selectors import post_version_verdicts, ruleset_version_latest
from forum_helper.rules.validation import rule_record_validate, ruleset_compile_check

CHUNK_SIZE = 2000
PROGRESS_EVERY = 1000
# Work units for the progress bar: analysing a post (twice) costs about this many scans.
ANALYSIS_WEIGHT = 10
SAMPLE_LIMIT = 20
MAX_STORED_IDS = 5000
EXCERPT_CONTEXT = 160
THREAD_CONTEXT_POSTS = 20
# Matchers through which a post's thread can change its reading: its own concepts (lexicon,
# pattern, measure) combine with the thread's, and a context cue borrows the thread's subject.
CONTEXT_SENSITIVE_KINDS = frozenset({"lexicon", "pattern", "measure", "context_cue"})
CONCEPT_KINDS = frozenset({"lexicon", "pattern", "measure"})  # as screening.services.post_context_build

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class BacktestFilters:
    since: date | None = None
    until: date | None = None
    source: str | None = None


@dataclass(frozen=True)
class ProposedChange:
    """What a backtest compares: the current active rules vs the active rules with the change."""

    changed_id: str
    old_record: dict[str, Any] | None
    new_record: dict[str, Any] | None  # None: the rule is removed (disabled)
    baseline: CompiledRuleset
    proposed: CompiledRuleset
    baseline_version: int
    # When the change leaves the rule as it is, the baseline is the ruleset without it.
    contribution: bool
    prefilter_patterns: tuple[str, ...] | None  # None: replay every post
    # Patterns of what lets context change a post's reading (concepts, context cues).
    context_patterns: tuple[str, ...] = ()
    # Patterns of concepts: the only thing the detector takes from the thread around a post.
    concept_patterns: tuple[str, ...] = ()


@dataclass
class BacktestReport:
    scanned: int = 0
    analysed: int = 0
    prefiltered: bool = False
    seconds: float = 0.0
    newly_flagged: int = 0
    no_longer_flagged: int = 0
    severity_changes: Counter = field(default_factory=Counter)
    rule_hits_before: int = 0
    rule_hits_after: int = 0
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    flagged_ids: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def to_dict(self, *, change: ProposedChange, precision: dict[str, Any]) -> dict[str, Any]:
        return {
            "rule_id": change.changed_id,
            "old_record": change.old_record,
            "new_record": change.new_record,
            "baseline_version": change.baseline_version,
            "contribution": change.contribution,
            "scanned": self.scanned,
            "analysed": self.analysed,
            "prefiltered": self.prefiltered,
            "seconds": round(self.seconds, 3),
            "posts_per_second": round(self.scanned / self.seconds) if self.seconds else None,
            "newly_flagged": self.newly_flagged,
            "no_longer_flagged": self.no_longer_flagged,
            "severity_changes": dict(sorted(self.severity_changes.items())),
            "severity_changed": sum(self.severity_changes.values()),
            "rule_hits_before": self.rule_hits_before,
            "rule_hits_after": self.rule_hits_after,
            "precision": precision,
            "samples": {key: value for key, value in self.samples.items()},
            "post_version_ids": {key: value[:MAX_STORED_IDS] for key, value in self.flagged_ids.items()},
        }


# --- resolving the change ------------------------------------------------------------------


def _effective(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record as the proposed ruleset runs it: shadow counts as active, disabled as absent."""
    if record is None or record["mode"] == RuleMode.DISABLED:
        return None
    return {**record, "mode": RuleMode.ACTIVE}


def rule_prefilter_patterns(*, rule_id: str, kinds: Iterable[str], compiled: Iterable[CompiledRuleset]) -> list[str] | None:
    """RE2 sources that match wherever the change could alter a reading, or None for "anywhere".

    A matcher rule (lexicon, pattern, cue, measure) changes a post's reading only where its
    pattern, or the pattern of another rule for the same concept (a concept has one category),
    occurs in the post or its thread. Combination, severity and explanation rules change how
    every post is read, so those replay every post.
    """
    if any(kind not in MATCHER_KINDS for kind in kinds):
        return None
    rulesets = list(compiled)
    concepts = {m.concept for r in rulesets for m in r.matchers if m.rule_id == rule_id and m.concept}
    sources = {
        m.source for r in rulesets for m in r.matchers if m.rule_id == rule_id or (m.concept and m.concept in concepts)
    }
    return sorted(sources)


def prefilter_set(patterns: Iterable[str]) -> Any:
    """One case-insensitive RE2 Set of all patterns (searches anywhere in the text)."""
    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True
    matcher = re2.Set.SearchSet(options)
    for pattern in patterns:
        matcher.Add(pattern)
    matcher.Compile()
    return matcher


def change_resolve(
    *, record: dict[str, Any] | None = None, rule_id: str | None = None, mode: str | None = None
) -> ProposedChange:
    """Turn a proposed rule file, or a rule id and mode, into the two rulesets to compare."""
    if mode is not None and mode not in RuleMode.values:
        raise ApplicationError(f"'mode' must be one of {', '.join(RuleMode.values)}.")
    current = {rule.rule_id: rule.as_record() for rule in Rule.objects.order_by("position", "pk")}
    if record is not None:
        new = rule_record_validate(record=record)
        if mode is not None:
            new["mode"] = mode
        old = current.get(new["id"])
    elif rule_id:
        old = current.get(rule_id)
        if old is None:
            raise ApplicationError(f"There is no rule {rule_id}.", status=404)
        new = {**old, "mode": mode or RuleMode.ACTIVE}
    else:
        raise ApplicationError("Give a proposed rule (record) or the id of an existing rule.")
    changed_id = new["id"]
    others = [r for rid, r in current.items() if rid != changed_id]
    ruleset_compile_check(records=[*others, new], changed_id=changed_id)

    old_run = old if old is not None and old["mode"] == RuleMode.ACTIVE else None
    new_run = _effective(new)
    contribution = old_run == new_run
    if contribution:
        old_run = None
    active_others = [r for r in others if r["mode"] == RuleMode.ACTIVE]
    latest = ruleset_version_latest()
    version = latest.number if latest else 0
    baseline_records = [*active_others, *([old_run] if old_run else [])]
    proposed_records = [*active_others, *([new_run] if new_run else [])]
    # Keep the rule at its place in compile order on both sides.
    order = {rid: index for index, rid in enumerate(current)}
    baseline_records.sort(key=lambda r: order.get(r["id"], len(order)))
    proposed_records.sort(key=lambda r: order.get(r["id"], len(order)))

    baseline = compile_ruleset(baseline_records, version=version)
    proposed = compile_ruleset(proposed_records, version=version)
    context_patterns = sorted(
        {m.source for ruleset in (baseline, proposed) for m in ruleset.matchers if m.kind in CONTEXT_SENSITIVE_KINDS}
    )
    kinds = [side["kind"] for side in (old_run, new_run) if side is not None]
    if kinds and all(kind == "combination" for kind in kinds):
        # A combination needs a concept the author endorses: in the post's own words, or
        # borrowed from the thread through a context cue in the post's own words.
        patterns: list[str] | None = context_patterns
    else:
        patterns = rule_prefilter_patterns(rule_id=changed_id, kinds=kinds, compiled=(baseline, proposed))
    if patterns:
        try:
            prefilter_set(patterns)
        except Exception:  # a pattern RE2 compiles alone but not in a Set: replay everything
            patterns = None
    return ProposedChange(
        changed_id=changed_id,
        old_record=old,
        new_record=new,
        baseline=baseline,
        proposed=proposed,
        baseline_version=version,
        contribution=contribution,
        prefilter_patterns=None if patterns is None else tuple(patterns),
        concept_patterns=tuple(
            sorted({m.source for ruleset in (baseline, proposed) for m in ruleset.matchers if m.kind in CONCEPT_KINDS})
        ),
        context_patterns=tuple(context_patterns),
    )


# --- the replay ----------------------------------------------------------------------------


def _stored_versions(filters: BacktestFilters) -> QuerySet[PostVersion]:
    versions = PostVersion.objects.filter(version=F("post__current_version"))
    if filters.since is not None:
        versions = versions.filter(received_at__gte=datetime.combine(filters.since, dtime.min, tzinfo=dt_timezone.utc))
    if filters.until is not None:
        versions = versions.filter(received_at__lte=datetime.combine(filters.until, dtime.max, tzinfo=dt_timezone.utc))
    if filters.source:
        versions = versions.filter(post__source__slug=filters.source)
    return versions


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _contexts_for(rows: list[tuple], has_concept: Callable[[str], bool]) -> dict[int, PostContext]:
    """Thread contexts for a chunk of candidate rows, built with one query.

    The same posts as screening.services.post_context_build picks (title, parent, up to 20
    earlier posts), minus texts without any concept and repeated texts: the detector only
    takes the set of concepts from context, so those change nothing and only cost a read.
    """
    thread_ids = {row[4] for row in rows}
    by_thread: dict[int, list[tuple[int | None, int, str]]] = defaultdict(list)
    text_by_post: dict[int, str] = {}
    thread_posts = (
        PostVersion.objects.filter(version=F("post__current_version"), post__thread_id__in=thread_ids)
        .values_list("post__thread_id", "post__position", "post_id", "raw_text")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for thread_id, position, post_id, text in thread_posts:
        by_thread[thread_id].append((position, post_id, text))
        text_by_post[post_id] = text
    for posts in by_thread.values():
        posts.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
    missing_parents = {row[7] for row in rows if row[7] is not None and row[7] not in text_by_post}
    if missing_parents:
        parents = PostVersion.objects.filter(version=F("post__current_version"), post_id__in=missing_parents)
        text_by_post.update(parents.values_list("post_id", "raw_text"))
    relevant: dict[int, bool] = {}  # post id -> its text names a concept

    def keep(post_id: int) -> bool:
        if post_id not in relevant:
            relevant[post_id] = has_concept(text_by_post[post_id])
        return relevant[post_id]

    contexts: dict[int, PostContext] = {}
    for pv_id, _text, _role, title, thread_id, position, post_id, parent_id in rows:
        earlier: list[int] = []
        for other_position, other_post_id, _other_text in by_thread.get(thread_id, ()):
            if len(earlier) >= THREAD_CONTEXT_POSTS:
                break
            if other_post_id == post_id:
                continue
            if position is not None and (other_position is None or other_position >= position):
                continue
            earlier.append(other_post_id)
        parent: int | None = None
        if parent_id is not None and parent_id in text_by_post:
            parent = parent_id
        elif position and position > 1 and earlier:
            parent = earlier[0]
        kept = [other for other in earlier if other != parent and keep(other)]
        contexts[pv_id] = PostContext(
            thread_title=title if title and has_concept(title) else "",
            parent_text=text_by_post[parent] if parent is not None and keep(parent) else "",
            thread_posts=tuple(text_by_post[other] for other in kept),
        )
    return contexts


def _sample(pv_id: int, text: str, analysis: Analysis, rule_id: str, before: Analysis, after: Analysis) -> dict:
    spans = [(e.start, e.end) for e in analysis.evidence if e.rule == rule_id] or [
        (e.start, e.end) for e in analysis.evidence
    ]
    spans.sort()
    if spans:
        start = max(0, spans[0][0] - EXCERPT_CONTEXT)
        end = min(len(text), max(spans[-1][1], spans[0][1]) + EXCERPT_CONTEXT)
    else:
        start, end = 0, min(len(text), 2 * EXCERPT_CONTEXT)
    return {
        "post_version_id": pv_id,
        "excerpt": text[start:end],
        "offset": start,
        "truncated_start": start > 0,
        "truncated_end": end < len(text),
        # Spans relative to the excerpt, clipped to it.
        "spans": [[max(s, start) - start, min(e, end) - start] for s, e in spans if e > start and s < end],
        "before": {"risky": before.risky, "severity": before.severity, "rule_ids": list(before.rule_ids)},
        "after": {"risky": after.risky, "severity": after.severity, "rule_ids": list(after.rule_ids)},
    }


def _candidates(change: ProposedChange, versions: QuerySet[PostVersion], tick: Callable[[], None]) -> list[int]:
    """Ids of the post versions whose reading the change can alter.

    A post is a candidate when the changed rule's patterns match its own text, or when they
    match its thread (the title, or an earlier post) and the post itself holds something
    context can act on (a concept or a context cue: a post without either reads the same
    whatever its thread says).
    """
    if not change.prefilter_patterns:
        return []
    match = prefilter_set(change.prefilter_patterns).Match
    context_match = prefilter_set(change.context_patterns).Match if change.context_patterns else (lambda text: None)
    candidates: list[int] = []
    # thread id -> lowest position of a post that matches (None: a post without a position).
    first_match: dict[int, float] = {}
    # Posts that match only through their thread: (id, thread id, position).
    maybe: list[tuple[int, int, float]] = []
    title_match: dict[int, bool] = {}
    rows = versions.values_list("pk", "raw_text", "post__thread_id", "post__thread__title", "post__position")
    for pv_id, text, thread_id, title, position in rows.iterator(chunk_size=CHUNK_SIZE):
        where = float(position) if position is not None else float("inf")
        if match(text) is not None:
            candidates.append(pv_id)
            # A post without a position is read with every other post of its thread.
            first_match[thread_id] = min(first_match.get(thread_id, float("inf")), where if position is not None else -1.0)
        elif context_match(text) is not None:
            maybe.append((pv_id, thread_id, where))
            if thread_id not in title_match:
                title_match[thread_id] = bool(title) and match(title) is not None
        tick()
    for pv_id, thread_id, where in maybe:
        if title_match.get(thread_id) or first_match.get(thread_id, float("inf")) < where or (
            where == float("inf") and thread_id in first_match
        ):
            candidates.append(pv_id)
    candidates.sort()
    return candidates


def backtest_compute(
    *,
    change: ProposedChange,
    filters: BacktestFilters = BacktestFilters(),
    progress: ProgressCallback | None = None,
    sample_limit: int = SAMPLE_LIMIT,
) -> dict[str, Any]:
    """Replay the change over the latest version of every stored post matching the filters."""
    started = time.perf_counter()
    report = BacktestReport()
    versions = _stored_versions(filters)
    total_rows = versions.count()
    report.scanned = total_rows
    done = 0

    def tick(step: int, total: int) -> None:
        nonlocal done
        before = done // PROGRESS_EVERY
        done += step
        if progress is not None and (done // PROGRESS_EVERY != before or done >= total):
            progress(done, total)

    if change.prefilter_patterns is not None:
        report.prefiltered = True
        candidate_ids = _candidates(change, versions, lambda: tick(1, total_rows * (1 + ANALYSIS_WEIGHT)))
        total = total_rows + ANALYSIS_WEIGHT * len(candidate_ids)
    else:
        candidate_ids = list(versions.order_by("pk").values_list("pk", flat=True))
        total = ANALYSIS_WEIGHT * len(candidate_ids)
    if progress is not None:
        progress(done, total)

    rule_id = change.changed_id
    hits_after: list[int] = []
    concept_match = prefilter_set(change.concept_patterns).Match if change.concept_patterns else None

    def has_concept(text: str) -> bool:
        return concept_match is not None and bool(text) and concept_match(text) is not None

    for chunk in _chunks(candidate_ids, CHUNK_SIZE):
        rows = list(
            PostVersion.objects.filter(pk__in=chunk)
            .order_by("pk")
            .values_list(
                "pk", "raw_text", "post__author_role", "post__thread__title", "post__thread_id",
                "post__position", "post_id", "post__parent_id",
            )
        )
        contexts = _contexts_for(rows, has_concept)
        for row in rows:
            pv_id, text, role = row[0], row[1], row[2]
            post_input = PostInput(text=text, author_role=role)
            before = analyze(post_input, contexts[pv_id], change.baseline)
            after = analyze(post_input, contexts[pv_id], change.proposed)
            report.analysed += 1
            if rule_id in before.rule_ids:
                report.rule_hits_before += 1
            if rule_id in after.rule_ids:
                report.rule_hits_after += 1
                hits_after.append(pv_id)
            bucket = None
            if after.risky and not before.risky:
                report.newly_flagged += 1
                bucket, shown = "newly_flagged", after
            elif before.risky and not after.risky:
                report.no_longer_flagged += 1
                bucket, shown = "no_longer_flagged", before
            elif before.severity != after.severity:
                report.severity_changes[f"{before.severity}->{after.severity}"] += 1
                # Highlight the changed rule where it fired: after an edit, or before a removal.
                bucket, shown = "severity_changed", after if rule_id in after.rule_ids else before
            elif rule_id in after.rule_ids and after.risky:
                bucket, shown = "rule_hits", after
            if bucket is not None:
                report.flagged_ids[bucket].append(pv_id)
                if len(report.samples[bucket]) < sample_limit:
                    report.samples[bucket].append(_sample(pv_id, text, shown, rule_id, before, after))
            tick(ANALYSIS_WEIGHT, total)
    if progress is not None:
        progress(total, total)
    report.seconds = time.perf_counter() - started
    precision = _precision_estimate(report=report, hits_after=hits_after)
    return report.to_dict(change=change, precision=precision)


def _precision_estimate(*, report: BacktestReport, hits_after: list[int]) -> dict[str, Any]:
    """Past moderator verdicts on the posts involved: how many of the changed rule's hits were
    confirmed vs dismissed, and what the change would gain or lose."""
    involved = set(hits_after)
    for ids in report.flagged_ids.values():
        involved.update(ids)
    verdicts = post_version_verdicts(post_version_ids=sorted(involved))

    def tally(ids: Iterable[int]) -> dict[str, Any]:
        counts = Counter(verdicts.get(pv_id) for pv_id in ids)
        confirmed, dismissed = counts.get("confirm", 0), counts.get("dismiss", 0)
        decided = confirmed + dismissed
        return {
            "confirmed": confirmed,
            "dismissed": dismissed,
            "undecided": sum(counts.values()) - decided,
            "precision": round(confirmed / decided, 3) if decided else "n/a",
        }

    return {
        "rule_hits": tally(hits_after),
        "newly_flagged": tally(report.flagged_ids.get("newly_flagged", [])),
        "no_longer_flagged": tally(report.flagged_ids.get("no_longer_flagged", [])),
        "precision": tally(hits_after)["precision"],
    }
