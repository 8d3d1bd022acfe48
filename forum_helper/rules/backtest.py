"""Replay a proposed rule change over stored posts: current ruleset vs the ruleset with the change.

A backtest must give the deltas a full re-analysis of every post would give, so each kind of
change replays exactly the posts whose reading it can alter, found with one RE2 Set scan of every
stored text (each concept's patterns, the context cues and the changed rule's own patterns):

- a matcher (lexicon, pattern, measure, any cue): posts whose own text matches the changed rule
  (or another rule of its concept) and names a concept or has one in its thread, and every post
  whose thread holds a text with both the changed pattern and a concept; a person cue (which
  matches nearly every text) only where it can change something: posts that may be risky with
  the cue in their text or thread, posts naming a first-person concept where the cue matches
  (or with such a text in their thread), and posts with a warning cue and the person cue. An
  edit that only adds alternatives to the cue's pattern (or only removes some) counts as
  "matching" only a text with a sentence window where the added alternatives match and the
  rest of the pattern does not: elsewhere every sentence reads the same person signal;
- a combination: posts on which it may fire on either side (all of its concepts in the post or
  its thread, an anchor the post may endorse), posts with a mention whose thread or own text
  holds all its concepts, and, where the change alters which concepts count as mentions of a
  category, the posts naming such a concept (or under a thread that does) that may be risky,
  whose mentions may count, that may warn (a sentence whose warning or sarcasm cues weigh at
  least what its other cues give any other stance) or that have a modifier (a derived concept:
  every post whose text or thread names one of its parts);
- a severity rule: posts that can be risky (an endorsable concept that proves a category, alone
  or through a combination); the proposed side is analysed only when the baseline is risky,
  because severity rules are read only for risky posts;
- an explanation: nothing is analysed, since explanation texts change no verdict.

Any other change (a rule changing kind) replays every post. Thread context is built in memory
from the scan (the parent of a post analysed is read whatever it names). Cue bits are found in
the engine's sentence windows, so a cue anchored at a sentence's start counts mid-text. Above
PARALLEL_MIN_POSTS the analyses are split between this process and one forked child (the engine
is pure; the child never touches the database). Every RE2 Set here is built with the engine's
re2_options (room for its DFA: see RE2_MAX_MEM).
"""
from __future__ import annotations

import dataclasses
import mmap
import os
import pickle
import re
import select
import struct
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timezone as dt_timezone
from typing import Any

import re2
from django.db.models import F, QuerySet

from forum_helper.analysis import (
    Analysis, CompiledRuleset, PostContext, PostInput, analyze, compile_ruleset, shared_thread_readings,
)
from forum_helper.analysis.engine import ANSWER_MAX_WORDS, DONE_TO_SKIN_CONCEPTS, _blank_ranges
from forum_helper.analysis.ruleset import MATCHER_KINDS, re2_options
from forum_helper.analysis.text import _QUOTE_HINTS, quote_ranges, split_sentences
from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake.models import PostVersion
from forum_helper.rules.models import Rule, RuleMode
from forum_helper.rules.selectors import learned_model, post_version_verdicts, ruleset_version_latest
from forum_helper.rules.validation import rule_record_validate, ruleset_compile_check

CHUNK_SIZE = 2000
PROGRESS_EVERY = 1000
# Work units for the progress bar: analysing a post (twice) costs about this many scans.
ANALYSIS_WEIGHT = 10
SAMPLE_LIMIT = 20
MAX_STORED_IDS = 5000
EXCERPT_CONTEXT = 160
THREAD_CONTEXT_POSTS = 20  # as screening.services.post_context_build
CONCEPT_KINDS = frozenset({"lexicon", "pattern", "measure"})  # as screening.services.post_context_build
# Below this many posts to analyse, forking a second process costs more than it saves.
PARALLEL_MIN_POSTS = 3000

ProgressCallback = Callable[[int, int], None]


class Strategy:
    """Which posts a change can alter, by the kind of the changed rule (see the module docstring)."""

    MATCHER = "matcher"
    COMBINATION = "combination"
    SEVERITY = "severity"
    NO_VERDICT_CHANGE = "no_verdict_change"
    REPLAY = "replay"

    # What the report says about the posts analysed, for admins.
    DESCRIPTIONS = {
        MATCHER: "analysed: the posts whose text or thread matches the changed rule's terms",
        COMBINATION: "analysed: the posts on which the combination may fire, or whose reading of its concepts it may change",
        SEVERITY: "analysed: the posts that can be risky (severity rules read only those)",
        NO_VERDICT_CHANGE: "none analysed: an explanation text changes no verdict",
        REPLAY: "analysed: every post (full re-analysis)",
    }


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
    strategy: str = Strategy.REPLAY
    # Matcher changes: the changed rule's patterns and those of other rules of its concept.
    changed_patterns: tuple[str, ...] = ()
    # Combination changes: the concepts the combination names (and the parts of derived ones),
    # and the concepts whose membership of "mentions a category" the change alters.
    combination_concepts: frozenset[str] = frozenset()
    mention_changed: frozenset[str] = frozenset()


@dataclass
class BacktestReport:
    scanned: int = 0
    analysed: int = 0
    strategy: str = Strategy.REPLAY
    seconds: float = 0.0
    newly_flagged: int = 0
    no_longer_flagged: int = 0
    severity_changes: Counter = field(default_factory=Counter)
    rule_hits_before: int = 0
    rule_hits_after: int = 0
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    flagged_ids: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    hits_after: list[int] = field(default_factory=list)

    def merge(self, other: BacktestReport, *, sample_limit: int) -> None:
        """Append the report of the posts that follow this report's posts."""
        self.analysed += other.analysed
        self.newly_flagged += other.newly_flagged
        self.no_longer_flagged += other.no_longer_flagged
        self.severity_changes.update(other.severity_changes)
        self.rule_hits_before += other.rule_hits_before
        self.rule_hits_after += other.rule_hits_after
        self.hits_after += other.hits_after
        for bucket, ids in other.flagged_ids.items():
            self.flagged_ids[bucket] += ids
        for bucket, items in other.samples.items():
            self.samples[bucket] = (self.samples[bucket] + items)[:sample_limit]

    def to_dict(self, *, change: ProposedChange, precision: dict[str, Any]) -> dict[str, Any]:
        return {
            "rule_id": change.changed_id,
            "old_record": change.old_record,
            "new_record": change.new_record,
            "baseline_version": change.baseline_version,
            "contribution": change.contribution,
            "scanned": self.scanned,
            "analysed": self.analysed,
            "strategy": self.strategy,
            "strategy_description": Strategy.DESCRIPTIONS[self.strategy],
            "prefiltered": self.strategy != Strategy.REPLAY,
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


def rule_prefilter_patterns(*, rule_id: str, compiled: Iterable[CompiledRuleset]) -> list[str]:
    """RE2 sources that match wherever a changed matcher could alter a text's reading: its own
    pattern, and those of the other rules of its concept (a concept's category and whether it
    counts as a mention depend on all of them)."""
    rulesets = list(compiled)
    concepts = {m.concept for r in rulesets for m in r.matchers if m.rule_id == rule_id and m.concept}
    sources = {
        m.source for r in rulesets for m in r.matchers if m.rule_id == rule_id or (m.concept and m.concept in concepts)
    }
    return sorted(sources)


def prefilter_set(patterns: Iterable[str]) -> Any:
    """One case-insensitive RE2 Set of all patterns (searches anywhere in the text)."""
    options = re2_options()
    options.never_capture = True
    matcher = re2.Set.SearchSet(options)
    for pattern in patterns:
        matcher.Add(pattern)
    matcher.Compile()
    return matcher


def _combination_concepts(records: Iterable[dict[str, Any]], rulesets: Iterable[CompiledRuleset]) -> frozenset[str]:
    """Concepts a combination names, with the parts of every derived concept among them."""
    concepts: set[str] = set()
    for record in records:
        data = record.get("data") or {}
        concepts.update(data.get("all") or (), data.get("any") or (), data.get("anchors") or ())
        if data.get("concept"):
            concepts.add(data["concept"])
    derivations = [c for ruleset in rulesets for c in ruleset.combinations if c.concept]
    grown = True
    while grown:
        grown = False
        for combo in derivations:
            if combo.concept in concepts and not set(combo.all_of + combo.any_of) <= concepts:
                concepts.update(combo.all_of + combo.any_of)
                grown = True
    return frozenset(concepts)


def _strategy(kinds: set[str]) -> str:
    kinds = kinds - {"explanation"}  # explanation texts change no verdict
    if not kinds:
        return Strategy.NO_VERDICT_CHANGE
    if kinds == {"severity"}:
        return Strategy.SEVERITY
    if kinds == {"combination"}:
        return Strategy.COMBINATION
    if kinds <= MATCHER_KINDS:
        return Strategy.MATCHER
    return Strategy.REPLAY


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

    # Both sides read with the same learned model, so only the rule change makes a difference.
    learned = learned_model()
    baseline = compile_ruleset(baseline_records, version=version, learned=learned)
    proposed = compile_ruleset(proposed_records, version=version, learned=learned)
    sides = [side for side in (old_run, new_run) if side is not None]
    strategy = _strategy({side["kind"] for side in sides})
    changed_patterns: tuple[str, ...] = ()
    if strategy == Strategy.MATCHER:
        changed_patterns = tuple(rule_prefilter_patterns(rule_id=changed_id, compiled=(baseline, proposed)))
        try:
            prefilter_set(changed_patterns)
        except Exception:  # a pattern RE2 compiles alone but not in a Set: replay everything
            strategy = Strategy.REPLAY
    mentions = (baseline.mention_category_of_concept, proposed.mention_category_of_concept)
    return ProposedChange(
        changed_id=changed_id,
        old_record=old,
        new_record=new,
        baseline=baseline,
        proposed=proposed,
        baseline_version=version,
        contribution=contribution,
        strategy=strategy,
        changed_patterns=changed_patterns,
        combination_concepts=_combination_concepts(sides, (baseline, proposed)) if strategy == Strategy.COMBINATION else frozenset(),
        # A concept gained, lost or counted for another category.
        mention_changed=frozenset(c for c in {*mentions[0], *mentions[1]} if mentions[0].get(c) != mentions[1].get(c)),
    )


# --- the scan: what each stored text can bear on -----------------------------------------------


# Where the engine reads cues (engine._read_signals): each sentence's window of the text with
# quoted words blanked (engine._read), sentences split at every line break and at a space, tab
# or carriage return after . ! or ? (text.split_sentences).
_SENTENCE_SEPARATOR = re.compile(rb"(?<=[.!?])[ \t\r]")
# A list number on a line of its own ("7." - "7!" and "7?" too) joins the next line's window,
# separator and all.
_LIST_NUMBER_LINE = re.compile(rb"(?m)^[ \t\n\r\x0b\x0c]*[0-9]+[.!?][ \t\n\r\x0b\x0c]*$")
# quote_ranges finds nothing in a text without one of these (its own first test, in one search).
_QUOTE_HINT = re.compile(b"|".join(re.escape(hint) for hint in _QUOTE_HINTS))
# What makes "A|X" other than A or X: a bare flag group in A ("(?i)" holds for the rest of its
# group, X too) or a \Q that quotes to the end of the pattern.
_NOT_AN_ALTERNATIVE = re2.compile(r"\(\?[a-zA-Z-]*\)|\\Q")
# Patterns the multi-line search of a separated copy may not show in a window: \A and \z
# match only at the text's ends there, and a group may turn multi-line off.
_WINDOW_EDGE_ONLY = re.compile(r"\\A|\\z|\(\?[a-zA-Z]*-[a-zA-Z]*m")


def _cue_windows(data: bytes) -> list[tuple[bytes, bool]]:
    """The cue windows of a text as the engine reads them: (window, is a question)."""
    quotes = quote_ranges(data)
    cue = _blank_ranges(data, quotes) if quotes else data
    return [(cue[sentence.start : sentence.end], sentence.is_question) for sentence in split_sentences(data)]


class _Windows:
    """A text's cue windows, for _WindowSearch: a text without quotes and without a list number
    on a line of its own, its sentence separators made line breaks, has every window as a line
    (the same bytes; \\b reads the same at a window's ends, where whitespace or the text's end
    is beside them), so patterns searched multi-line (^ and $ at every line) in that copy
    (`lines`) match where they match in a window. Otherwise each window is searched."""

    __slots__ = ("data", "lines", "_windows")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.lines: bytes | None = None
        self._windows: list[tuple[bytes, bool]] | None = None
        if not _QUOTE_HINT.search(data) or not quote_ranges(data):
            separated = _SENTENCE_SEPARATOR.sub(b"\n", data)
            if not _LIST_NUMBER_LINE.search(separated):
                self.lines = separated

    @property
    def windows(self) -> list[tuple[bytes, bool]]:
        """(window, is a question), as split_sentences marks a question: a '?' in its last 3
        bytes. From `lines` (its lines of whitespace alone too: a superset) when there is one."""
        if self._windows is None:
            if self.lines is not None:
                self._windows = [(line, b"?" in line[-3:]) for line in self.lines.split(b"\n")]
            else:
                self._windows = _cue_windows(self.data)
        return self._windows


class _WindowSearch:
    """Whether any of some patterns matches in some cue window of a text (see _Windows;
    patterns using \\A or \\z, or turning multi-line off, are searched in each window)."""

    def __init__(self, sources: Iterable[str]) -> None:
        sources = list(sources)
        self.per_window = any(_WINDOW_EDGE_ONLY.search(source) for source in sources)
        options = re2_options()
        options.never_capture = True
        matcher = re2.Set.SearchSet(options)
        for source in sources:
            matcher.Add(f"(?m){source}")
        self.empty = not sources
        if not self.empty:
            matcher.Compile()
        self.match = matcher.Match  # on one window: a superset of the patterns' matches there

    def __call__(self, text: _Windows) -> bool:
        if self.empty or not text.data:
            return False
        if text.lines is not None and not self.per_window:
            return bool(self.match(text.lines))
        return any(self.match(window) for window, _ in text.windows)


@dataclass(frozen=True)
class _CueExtension:
    """An edit of a position-free cue that only adds alternatives to its pattern, or only takes
    some away: `longer` = `shorter`|`extra`. A window reads differently only where `extra`
    matches and `shorter` does not (a positional cue: wherever `extra` matches)."""

    extra: Any  # the added (or removed) alternatives, compiled as the engine compiles cues
    shorter: Any
    positional: bool
    search: _WindowSearch  # `extra` in any window

    def differs(self, text: _Windows) -> bool:
        if not self.search(text):
            return False
        return any(
            self.extra.search(window) is not None and (self.positional or self.shorter.search(window) is None)
            for window, _ in text.windows
        )


def _cue_extension(change: ProposedChange) -> _CueExtension | None:
    """The cue edit as a _CueExtension, when it is one: the changed rule a cue on both sides,
    alike but for its pattern, one side's pattern the other's with more alternatives after a
    top-level '|' (a rule's own pattern compiles alone, so "A|X" is A or X, unless A sets bare
    flags, which would also hold for X, or quotes with \\Q to its end)."""
    sides = [
        next((m for m in ruleset.signal_matchers if m.rule_id == change.changed_id), None)
        for ruleset in (change.baseline, change.proposed)
    ]
    if change.contribution or any(side is None for side in sides):
        return None
    old, new = sides
    if dataclasses.replace(old, source="", regex=None) != dataclasses.replace(new, source="", regex=None):
        return None
    # Matcher.source is "(?:" + pattern + ")".
    if len(old.source) < len(new.source):
        shorter, longer = old, new
    else:
        shorter, longer = new, old
    head = shorter.source[:-1] + "|"
    if not (
        shorter.source.startswith("(?:") and shorter.source.endswith(")") and longer.source.endswith(")")
        and longer.source.startswith(head) and len(longer.source) > len(head) + 1
    ):
        return None
    if _NOT_AN_ALTERNATIVE.search(shorter.source):
        return None
    extra_source = "(?:" + longer.source[len(head) : -1] + ")"
    try:
        extra = re2.compile(extra_source, re2_options())
    except re2.error:
        return None
    return _CueExtension(
        extra=extra, shorter=shorter.regex, positional=old.position != "any", search=_WindowSearch([extra_source])
    )



class _Scanner:
    """One RE2 Set over every concept pattern of both rulesets, the context and warning cues and
    the changed rule's patterns; a text's scan is a bit mask: one bit per concept it may name
    (derived concepts included), CUE (a context cue), WARNING (a warning cue), CHANGED (the
    changed rule's patterns), CHANGED_CONCEPT (CHANGED in a text that also names a concept:
    such a text can change the concepts a reply borrows from its thread), CHANGED_PERSON
    (CHANGED in a text naming a concept that requires the first person: only there can a
    person cue change which concepts a text names) and SHORT (a text naming a concept in at
    most ANSWER_MAX_WORDS words: as a reply it may endorse its thread's concepts by answering
    its parent). A concept's bit is a superset of the engine's reading: negation, conditions
    and context only remove hits.

    WARNING is a warning or sarcasm cue in one of the text's cue windows (_WindowSearch: a cue
    anchored at a sentence's start counts mid-text too); MAY_WARN, computed when a combination
    change alters mentions, a window where such a cue may win the sentence's stance. For an
    edit that only adds or removes alternatives of a person cue's pattern (_CueExtension),
    CHANGED is set only on texts with a window whose person signal differs."""

    CUE, CHANGED, CHANGED_CONCEPT, WARNING, CHANGED_PERSON, SHORT, MAY_WARN = 1, 2, 4, 8, 16, 32, 64

    def __init__(self, change: ProposedChange) -> None:
        rulesets = (change.baseline, change.proposed)
        # The learned reading reads a title's words whatever it names (both sides share it).
        self.reads_every_title = change.baseline.learned is not None
        self._bit: dict[str, int] = {}
        by_source: dict[str, int] = {}
        warning_sources: set[str] = set()
        for ruleset in rulesets:
            for matcher in ruleset.matchers:
                if matcher.kind in CONCEPT_KINDS and matcher.concept:
                    by_source[matcher.source] = by_source.get(matcher.source, 0) | self.bit(matcher.concept)
                elif matcher.kind == "context_cue":
                    by_source[matcher.source] = by_source.get(matcher.source, 0) | self.CUE
                elif matcher.kind == "stance_cue" and matcher.signal in ("warning", "sarcasm"):
                    warning_sources.add(matcher.source)  # sarcasm turns a sentence into a warning too
        # Only the matcher and combination prefilters read WARNING.
        reads_warnings = change.strategy in (Strategy.MATCHER, Strategy.COMBINATION)
        self._warning_search = _WindowSearch(sorted(warning_sources) if reads_warnings else ())
        self._warning_window = self._warning_search.match
        person_cue = change.strategy == Strategy.MATCHER and all(
            side is not None and side["kind"] == "person_cue" for side in (change.old_record, change.new_record)
        )
        self.cue_extension = _cue_extension(change) if person_cue else None
        if self.cue_extension is None:
            for source in change.changed_patterns:
                by_source[source] = by_source.get(source, 0) | self.CHANGED
        self._may_warn = self._warning_reader(change) if change.strategy == Strategy.COMBINATION and change.mention_changed else None
        self._reads_windows = reads_warnings or self.cue_extension is not None
        self._risky: dict[tuple[int, int], bool] = {}
        # Derived concepts (sentence-scope combinations), grown in rule order like the engine.
        self.derivations = [
            (self.bit(combo.concept), self.mask(combo.all_of), self.mask(combo.any_of))
            for ruleset in rulesets
            for combo in ruleset.combinations
            if combo.scope == "sentence" and combo.concept
        ]
        self.category_concepts = self.mask(c for ruleset in rulesets for c in ruleset.category_of_concept)
        # Post-scope combinations that prove a category: (all_of, any_of, anchors) masks.
        self.category_combinations = [
            self.combination_masks(combo) for ruleset in rulesets for combo in ruleset.combinations if combo.scope == "post" and combo.category
        ]
        # Concepts that need a first-person cue in their sentence, and those that report a modifier.
        self.first_person_concepts = self.mask(
            m.concept for r in rulesets for m in r.matchers if m.kind in CONCEPT_KINDS and m.concept and m.requires_first_person
        )
        self.modifier_concepts = self.mask(
            m.concept for r in rulesets for m in r.matchers if m.kind in CONCEPT_KINDS and m.concept and m.modifier
        )
        # Concepts that count as mentions of a category (on either side).
        self.mention_concepts = self.mask(c for ruleset in rulesets for c in ruleset.mention_category_of_concept)
        self.done_to_skin = self.mask(DONE_TO_SKIN_CONCEPTS)
        self.any_concept = sum(self._bit.values())
        sources = list(by_source)
        self._bits = [by_source[source] for source in sources]
        self._match = prefilter_set(sources).Match if sources else (lambda text: None)

    def bit(self, concept: str) -> int:
        if concept not in self._bit:
            self._bit[concept] = 128 << len(self._bit)
        return self._bit[concept]

    def _warning_reader(self, change: ProposedChange) -> Callable[[_Windows], bool] | None:
        """Whether a text has a cue window whose stance may be a warning (engine
        _decide_sentence_stance: the warning and sarcasm cues' weight at least every other
        stance's score; warning wins ties), or a sarcasm cue (engine._apply_sarcasm turns
        risky sentences into warnings). Each other score is at least what its position-free
        cues weigh (neutral: with hypothetical cues; reporting: ongoing and past, in a
        statement); positional warning cues count as if placed. None (every warning cue may
        win) when the two rulesets read cues differently or a cue weighs less than nothing."""
        def cue_reading(ruleset: CompiledRuleset) -> list[tuple]:
            return [(m.rule_id, m.source, m.signal, m.weight, m.position, m.question_only) for m in ruleset.signal_matchers]

        if cue_reading(change.baseline) != cue_reading(change.proposed):
            return None
        matchers = change.baseline.signal_matchers
        if not matchers or any(m.weight < 0 for m in matchers):
            return None
        match, warning_window = change.baseline.signal_set.Match, self._warning_window

        def may_warn(text: _Windows) -> bool:
            for window, question in text.windows:
                matched = match(window) if window and warning_window(window) else None
                if not matched:
                    continue
                warning = 0.0
                others: dict[str, float] = defaultdict(float)
                for index in matched:
                    matcher = matchers[index]
                    if matcher.question_only and not question:
                        continue
                    if matcher.signal == "sarcasm":
                        return True
                    if matcher.signal == "warning":
                        warning += matcher.weight
                    elif matcher.position == "any":
                        others[matcher.signal or ""] += matcher.weight
                if warning <= 0:
                    continue
                floor = max(
                    others["neutral"] + others["hypothetical"],
                    others["planning"],
                    others["recommending"],
                    0.0 if question else others["reporting_ongoing"] + others["reporting_past"],
                )
                if warning >= floor:
                    return True
            return False

        return may_warn

    def mask(self, concepts: Iterable[str]) -> int:
        return sum({self.bit(concept) for concept in concepts})

    def combination_masks(self, combo: Any) -> tuple[int, int, int]:
        return self.mask(combo.all_of), self.mask(combo.any_of), self.mask(combo.anchors)

    def reads_thread(self, own: int) -> bool:
        """Whether a post's verdict can depend on its thread at all. A post naming no concept and
        without a context cue is never risky and its evidence is empty; its thread only decides
        whether a warning in it is a low-severity mention, so without a warning cue it reads the
        same whatever its thread says."""
        return bool(own & (self.any_concept | self.CUE | self.WARNING))

    def scan(self, text: str) -> int:
        if not text:
            return 0
        data = text.encode("utf-8")
        mask = 0
        matched = self._match(data)
        if matched:
            bits = self._bits
            for index in matched:
                mask |= bits[index]
        if self._reads_windows:
            windows = _Windows(data)
            if self._warning_search(windows):
                mask |= self.WARNING
                if self._may_warn is None or self._may_warn(windows):
                    mask |= self.MAY_WARN
            if self.cue_extension is not None and self.cue_extension.differs(windows):
                mask |= self.CHANGED
        if mask & self.any_concept:
            grown = True
            while grown:
                grown = False
                for derived, all_of, any_of in self.derivations:
                    if not mask & derived and mask & all_of == all_of and (not any_of or mask & any_of):
                        mask |= derived
                        grown = True
            if mask & self.CHANGED:
                mask |= self.CHANGED_CONCEPT
                if mask & self.first_person_concepts:
                    mask |= self.CHANGED_PERSON
            if len(data.split()) <= ANSWER_MAX_WORDS:  # counted as the engine counts
                mask |= self.SHORT
        return mask

    def endorsable(self, own: int, thread: int) -> int:
        """The concepts a post may endorse: its own, and its thread's only through a context cue
        of its own or as a short answer to its parent (a reply of at most ANSWER_MAX_WORDS words
        naming a concept itself, engine._answer_to_plan_hits)."""
        return own | (thread if own & (self.CUE | self.SHORT) else 0)

    def can_be_risky(self, own: int, thread: int) -> bool:
        """Whether a post may prove a category: an endorsable concept that proves one, or a
        combination with an endorsable anchor. (Remembered by mask pair: most posts share a
        few masks.)"""
        key = (own, thread)
        known = self._risky.get(key)
        if known is None:
            known = self._risky[key] = bool(self.endorsable(own, thread) & self.category_concepts) or any(
                self.can_fire(masks, own, thread) for masks in self.category_combinations
            )
        return known

    def can_fire(self, masks: tuple[int, int, int], own: int, thread: int) -> bool:
        """Whether a post-scope combination may fire: its concepts present in the post or its
        thread, an anchor endorsed."""
        return bool(self.met(masks, own | thread) and self.endorsable(own, thread) & masks[2])

    @staticmethod
    def met(masks: tuple[int, int, int], present: int) -> bool:
        """Whether a combination's concepts are all there (engine._combination_met)."""
        all_of, any_of, _ = masks
        return bool(present & all_of == all_of and (not any_of or present & any_of))

    def names_a_practice(self, present: int) -> bool:
        """Whether the engine may read these concepts as naming a practice
        (engine._names_a_practice): a concept with a category, one done to the skin, or the
        parts of a category combination."""
        return bool(present & (self.category_concepts | self.done_to_skin)) or any(
            self.met(masks, present) for masks in self.category_combinations
        )


# A thunk for the mask of what a post's parent is read with (its title and its own text),
# or None where the caller has none (the thread's mask stands for it).
ParentMask = Callable[[], int] | None


def _wanted(change: ProposedChange, scanner: _Scanner) -> Callable[..., bool]:
    """Whether the change can alter the verdict on a post, from its own mask and its thread's
    (title, earlier posts, parent)."""
    strategy = change.strategy
    if strategy == Strategy.REPLAY:
        return lambda own, thread, parent=None: True
    if strategy == Strategy.NO_VERDICT_CHANGE:
        return lambda own, thread, parent=None: False
    if strategy == Strategy.SEVERITY:
        return lambda own, thread, parent=None: scanner.can_be_risky(own, thread)
    any_concept, changed, changed_concept = scanner.any_concept, scanner.CHANGED, scanner.CHANGED_CONCEPT
    reads_thread = scanner.reads_thread
    if strategy == Strategy.MATCHER:
        if all(side is None or side["kind"] == "person_cue" for side in (change.old_record, change.new_record)):
            return _person_cue_wanted(scanner)
        # Cues are read only in a post that names a concept or has one in its thread; a thread
        # text with the changed pattern and a concept may change what every reply borrows.
        return lambda own, thread, parent=None: bool(
            ((own & changed and (own | thread) & any_concept) or thread & changed_concept) and reads_thread(own)
        )
    mention = scanner.mask(change.mention_changed)
    sides = [change.old_record, change.new_record]
    derived = any(side is not None and (side.get("data") or {}).get("concept") for side in sides)
    if derived:
        # A derived concept counts wherever its parts are named.
        named = scanner.mask(change.combination_concepts)
        return lambda own, thread, parent=None: bool(
            (own & (named | mention) or (thread & (named | mention) and reads_thread(own)))
        )
    combinations = [
        scanner.combination_masks(combo)
        for ruleset in (change.baseline, change.proposed)
        for combo in ruleset.combinations
        if combo.rule_id == change.changed_id
    ]
    can_fire, met, can_be_risky = scanner.can_fire, scanner.met, scanner.can_be_risky
    names_a_practice = scanner.names_a_practice
    mentions, may_warn, modifiers = scanner.mention_concepts, scanner.MAY_WARN, scanner.modifier_concepts
    # engine._names_a_practice reads a combination only where no concept it names is a practice
    # already (a category's concept, or one done to the skin): when each changed combination
    # met always names such a concept (one of its `all`, or every one of its `any`), its
    # presence or absence changes no post's answer there.
    practice = (
        set(change.baseline.category_of_concept) & set(change.proposed.category_of_concept)
    ) | DONE_TO_SKIN_CONCEPTS
    practice_either_way = all(
        set(combo.all_of) & practice or (combo.any_of and set(combo.any_of) <= practice)
        for ruleset in (change.baseline, change.proposed)
        for combo in ruleset.combinations
        if combo.rule_id == change.changed_id
    )

    def wanted(own: int, thread: int, parent: ParentMask = None) -> bool:
        """A category combination is read in engine._categories (it may fire: the changed
        rule's hits) and engine._names_a_practice (its parts met, in the post or its thread:
        whether a non-risky post's own mentions count); where it may fire on the parent (read
        with the title), the parent's analysis (which decides what a reply endorses) may
        change too. A concept
        whose mention category the change alters reads differently wherever a text names it
        (which sentences get their cues read, so negation and stances); that changes a verdict
        only for a post that may be risky, a non-risky post whose mentions may count, one that
        may warn (a warning about a thread that mentions a practice is low) or one with a
        modifier of its own (a thread text read differently may turn on or off the reading of
        every sentence of the post)."""
        present = own | thread
        if any(can_fire(masks, own, thread) for masks in combinations):
            return True
        if any(met(masks, present) for masks in combinations):
            # its parts named: this post's mentions may count
            if own & mentions and not practice_either_way:
                return True
            # the parent (or a text before it) may be where it fires: what the parent's analysis
            # says decides what a reply that may be risky endorses
            if can_be_risky(own, thread):
                read_with = thread if parent is None else parent()
                if any(met(masks, read_with) and read_with & masks[2] for masks in combinations):
                    return True
        if not present & mention:
            return False
        return bool(
            can_be_risky(own, thread)
            or (own & mentions and names_a_practice(present))
            or own & may_warn
            or own & modifiers
        )

    return wanted


def _person_cue_wanted(scanner: _Scanner) -> Callable[..., bool]:
    """A person cue changes only the first-/second-person signal of the sentences whose text it
    matches (CHANGED). That signal decides stances and whether a concept that requires the
    first person counts, so: a post that may be risky changes only if its text or its thread
    (the parent is analysed to decide what a reply endorses) matches the cue; a non-risky post
    is low or none by its own mentions (whose concepts change only if it names a first-person
    concept where the cue matches), by a warning of its own about a thread that mentions a
    practice (its stances change where the cue matches its text, and its thread's concepts
    where the cue matches a thread text with a first-person concept) or by a modifier (a
    first-person concept, so CHANGED_PERSON again)."""
    changed, changed_person, warning = scanner.CHANGED, scanner.CHANGED_PERSON, scanner.WARNING
    any_concept, can_be_risky, reads_thread = scanner.any_concept, scanner.can_be_risky, scanner.reads_thread

    def wanted(own: int, thread: int, parent: ParentMask = None) -> bool:
        if own & changed_person or (thread & changed_person and reads_thread(own)):
            return True
        if not (own | thread) & any_concept:
            return False  # nothing to read: never risky, never a mention
        if (own | thread) & changed and can_be_risky(own, thread):
            return True
        return bool(own & warning and own & changed)

    return wanted


@dataclass
class _Scan:
    # Every post of the threads involved: thread id -> [(position, post id)], ordered as screening
    # orders a thread (position, then id; posts without a position last).
    threads: dict[int, list[tuple[int | None, int]]] = field(default_factory=lambda: defaultdict(list))
    masks: dict[int, int] = field(default_factory=dict)  # post id -> scan mask
    texts: dict[int, str] = field(default_factory=dict)  # post id -> text, for texts naming a concept
    other_texts: dict[int, str] = field(default_factory=dict)  # covered posts' other texts, when asked
    titles: dict[int, tuple[str, int]] = field(default_factory=dict)  # thread id -> (title, mask)
    # The posts the backtest covers: (post version id, post id, thread id, position, parent id, role).
    rows: list[tuple[int, int, int, int | None, int | None, str]] = field(default_factory=list)


_SCAN_FIELDS = ("pk", "raw_text", "post_id", "post__thread_id", "post__position", "post__parent_id", "post__author_role", "post__thread__title")


def _scan(
    versions: QuerySet[PostVersion], filtered: bool, scanner: _Scanner, keep_all_texts: bool, tick: Callable[[], None]
) -> _Scan:
    """Read every covered post once (and, under a filter, the rest of their threads: a reply's
    context may lie outside the date range)."""
    scan = _Scan()
    any_concept = scanner.any_concept

    def read(queryset: QuerySet[PostVersion], covered: bool) -> None:
        for pv_id, text, post_id, thread_id, position, parent_id, role, title in queryset.values_list(*_SCAN_FIELDS).iterator(
            chunk_size=CHUNK_SIZE
        ):
            mask = scanner.scan(text)
            scan.masks[post_id] = mask
            if mask & any_concept:
                scan.texts[post_id] = text
            elif covered and keep_all_texts:
                scan.other_texts[post_id] = text
            scan.threads[thread_id].append((position, post_id))
            if thread_id not in scan.titles:
                scan.titles[thread_id] = (title or "", scanner.scan(title or ""))
            if covered:
                scan.rows.append((pv_id, post_id, thread_id, position, parent_id, role))
                tick()

    read(versions.order_by("pk"), True)
    if filtered:
        current = PostVersion.objects.filter(version=F("post__current_version"))
        read(current.filter(post__thread_id__in=versions.values("post__thread_id")).exclude(pk__in=versions.values("pk")), False)
    for posts in scan.threads.values():
        posts.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
    return scan


def _thread_masks(scan: _Scan) -> dict[int, int]:
    """Post id -> the union of the masks of everything its context may hold: the title, every
    earlier post (all of them, not only the 20 screening reads: a superset) and its parent."""
    result: dict[int, int] = {}
    for thread_id, posts in scan.threads.items():
        title_mask = scan.titles[thread_id][1]
        masks = [scan.masks[post_id] for _, post_id in posts]
        before = title_mask  # masks of posts with a lower position
        index = 0
        while index < len(posts):
            position = posts[index][0]
            if position is None:  # a post without a position is read with all its thread
                suffix = [0] * (len(posts) + 1)
                for back in range(len(posts) - 1, -1, -1):
                    suffix[back] = suffix[back + 1] | masks[back]
                prefix = title_mask
                for at, (_, post_id) in enumerate(posts):
                    if at >= index:
                        result[post_id] = prefix | suffix[at + 1]
                    prefix |= masks[at]
                break
            group_end = index
            while group_end < len(posts) and posts[group_end][0] == position:
                group_end += 1
            for _, post_id in posts[index:group_end]:
                result[post_id] = before
            for _, post_id in posts[index:group_end]:
                before |= scan.masks[post_id]
            index = group_end
    return result


def _stored_versions(filters: BacktestFilters) -> QuerySet[PostVersion]:
    versions = PostVersion.objects.filter(version=F("post__current_version"))
    if filters.since is not None:
        versions = versions.filter(received_at__gte=datetime.combine(filters.since, dtime.min, tzinfo=dt_timezone.utc))
    if filters.until is not None:
        versions = versions.filter(received_at__lte=datetime.combine(filters.until, dtime.max, tzinfo=dt_timezone.utc))
    if filters.source:
        versions = versions.filter(post__source__slug=filters.source)
    return versions


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- contexts ------------------------------------------------------------------------------


def _earlier_and_parent(
    thread: Iterable[tuple[int | None, int]], post_id: int, position: int | None, parent_id: int | None
) -> tuple[list[int], int | None]:
    """The earlier posts screening.services.post_context_build reads (up to 20) and the post
    replied to: the explicit parent, else the opener of an unthreaded reply."""
    earlier: list[int] = []
    for other_position, other_post_id in thread:
        if len(earlier) >= THREAD_CONTEXT_POSTS:
            break
        if other_post_id == post_id:
            continue
        if position is not None and (other_position is None or other_position >= position):
            continue
        earlier.append(other_post_id)
    parent: int | None = None
    if parent_id is not None:
        parent = parent_id
    elif position and position > 1 and earlier:
        parent = earlier[0]
    return earlier, parent


def _context(
    *, thread: Iterable[tuple[int | None, int]], title: str, post_id: int, position: int | None,
    parent_id: int | None, texts: dict[int, str],
) -> PostContext:
    """The same posts as screening.services.post_context_build picks (title, parent, up to 20
    earlier posts), minus earlier texts (and, for the rules alone, titles) without any concept:
    the rules read those only for their concepts, so they change nothing and only cost a read.
    The parent is read whole (its stance, its question, its clinician decide what a short answer
    endorses), so `texts` must hold it whatever it names."""
    earlier, parent = _earlier_and_parent(thread, post_id, position, parent_id)
    return PostContext(
        thread_title=title,
        parent_text=texts.get(parent, "") if parent is not None else "",
        thread_posts=tuple(texts[other] for other in earlier if other != parent and other in texts),
    )


# --- the replay ----------------------------------------------------------------------------


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


_Item = tuple[int, str, str, PostContext]  # post version id, text, author role, context


def _replay(
    items: list[_Item], change: ProposedChange, *, sample_limit: int, analysed: Callable[[int], None]
) -> BacktestReport:
    """Analyse each post with both rulesets and tally the differences. Under a severity change
    the proposed side is read only for posts the baseline finds risky: severity rules are read
    for nothing else, and add nothing but the severity (and its rule id)."""
    report = BacktestReport()
    rule_id = change.changed_id
    severity_only = change.strategy == Strategy.SEVERITY
    with shared_thread_readings():  # replies of one thread share its readings
        for number, (pv_id, text, role, context) in enumerate(items, start=1):
            post_input = PostInput(text=text, author_role=role)
            before = analyze(post_input, context, change.baseline)
            after = before if severity_only and not before.risky else analyze(post_input, context, change.proposed)
            report.analysed += 1
            if rule_id in before.rule_ids:
                report.rule_hits_before += 1
            if rule_id in after.rule_ids:
                report.rule_hits_after += 1
                report.hits_after.append(pv_id)
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
            if number % 100 == 0:
                analysed(100)
    analysed(len(items) % 100)
    return report


def _replay_forked(
    items: list[_Item], change: ProposedChange, *, sample_limit: int, analysed: Callable[[int], None]
) -> BacktestReport:
    """The second half of the posts in a forked child, the first half here. The child only runs
    the pure engine on data it inherited; it reports its count through shared memory and its
    report through a pipe, and leaves with os._exit (it never touches the database connection)."""
    half = len(items) // 2
    counter = mmap.mmap(-1, 8)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (its result is checked in the parent)
        status = 0
        try:
            os.close(read_fd)
            done = 0

            def count(step: int) -> None:
                nonlocal done
                done += step
                struct.pack_into("q", counter, 0, done)

            try:
                payload = pickle.dumps(("ok", _replay(items[half:], change, sample_limit=sample_limit, analysed=count)))
            except BaseException:
                payload = pickle.dumps(("error", traceback.format_exc()))
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    child_seen = 0

    def child_progress() -> None:
        nonlocal child_seen
        now = struct.unpack_from("q", counter, 0)[0]
        if now > child_seen:
            analysed(now - child_seen)
            child_seen = now

    def own_progress(step: int) -> None:
        analysed(step)
        child_progress()

    try:
        report = _replay(items[:half], change, sample_limit=sample_limit, analysed=own_progress)
        chunks: list[bytes] = []
        while True:
            ready, _, _ = select.select([read_fd], [], [], 0.5)
            child_progress()
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        os.waitpid(pid, 0)
        pid = 0
        child_progress()
    finally:
        os.close(read_fd)
        if pid:
            os.waitpid(pid, 0)
        counter.close()
    if not chunks:
        raise RuntimeError("the backtest's second process ended without a result")
    outcome, value = pickle.loads(b"".join(chunks))
    if outcome != "ok":
        raise RuntimeError(f"the backtest's second process failed:\n{value}")
    report.merge(value, sample_limit=sample_limit)
    return report


def _items(scan: _Scan, chosen: list[tuple[int, int, int, int | None, int | None, str]], scanner: _Scanner) -> Iterator[_Item]:
    """The posts to analyse with their contexts, built from the scan (texts the scan did not
    keep are read by id, a chunk at a time)."""
    texts = scan.texts  # texts naming a concept, and (below) the parents of the posts analysed
    missing_parents = {row[4] for row in chosen if row[4] is not None and row[4] not in scan.masks}
    if missing_parents:  # a parent outside the scanned threads
        parents = PostVersion.objects.filter(version=F("post__current_version"), post_id__in=missing_parents)
        for post_id, text in parents.values_list("post_id", "raw_text"):
            scan.masks[post_id] = mask = scanner.scan(text)
            if mask & scanner.any_concept:
                texts[post_id] = text
    # Parents naming nothing: the scan kept no text for them.
    unread_parents = set()
    for _, post_id, thread_id, position, parent_id, _ in chosen:
        _, parent = _earlier_and_parent(scan.threads[thread_id], post_id, position, parent_id if parent_id in scan.masks else None)
        if parent is not None and parent not in texts:
            unread_parents.add(parent)
    for chunk in _chunks(sorted(unread_parents), CHUNK_SIZE):
        parents = PostVersion.objects.filter(version=F("post__current_version"), post_id__in=chunk)
        texts.update(parents.values_list("post_id", "raw_text"))
    titles = {
        thread_id: title if scanner.reads_every_title or mask & scanner.any_concept else ""
        for thread_id, (title, mask) in scan.titles.items()
    }
    for chunk in _chunks(chosen, CHUNK_SIZE):
        own = scan.other_texts
        unread = [row[0] for row in chunk if row[1] not in texts and row[1] not in own]
        if unread:
            own = dict(PostVersion.objects.filter(pk__in=unread).values_list("post_id", "raw_text"))
        for pv_id, post_id, thread_id, position, parent_id, role in chunk:
            context = _context(
                thread=scan.threads[thread_id], title=titles[thread_id], post_id=post_id, position=position,
                parent_id=parent_id if parent_id in scan.masks else None, texts=texts,
            )
            yield pv_id, texts[post_id] if post_id in texts else own[post_id], role, context


def backtest_compute(
    *,
    change: ProposedChange,
    filters: BacktestFilters = BacktestFilters(),
    progress: ProgressCallback | None = None,
    sample_limit: int = SAMPLE_LIMIT,
    replay_all: bool = False,
    parallel: bool = True,
) -> dict[str, Any]:
    """Replay the change over the latest version of every stored post matching the filters.

    replay_all analyses every post whatever the change (the reference the prefilters must equal);
    parallel=False keeps the analyses in this process.
    """
    started = time.perf_counter()
    strategy = Strategy.REPLAY if replay_all else change.strategy
    change = dataclasses.replace(change, strategy=strategy)
    report = BacktestReport(strategy=strategy)
    versions = _stored_versions(filters)
    total_rows = versions.count()
    report.scanned = total_rows
    done = 0
    total = total_rows * (1 + ANALYSIS_WEIGHT)

    def tick(step: int) -> None:
        nonlocal done
        before = done // PROGRESS_EVERY
        done += step
        if progress is not None and (done // PROGRESS_EVERY != before or done >= total):
            progress(min(done, total), total)

    if progress is not None:
        progress(0, total)
    if strategy != Strategy.NO_VERDICT_CHANGE:
        scanner = _Scanner(change)
        filtered = any(value is not None and value != "" for value in (filters.since, filters.until, filters.source))
        scan = _scan(versions, filtered, scanner, strategy == Strategy.REPLAY, lambda: tick(1))
        wanted = _wanted(change, scanner)
        thread_masks = _thread_masks(scan)
        masks = scan.masks

        def parent_mask(row: tuple[int, int, int, int | None, int | None, str]) -> int:
            """The title's mask and the parent's (as _context picks the parent)."""
            _, post_id, thread_id, position, parent_id, _ = row
            if parent_id is not None and parent_id not in masks:
                return -1  # a parent outside the scanned threads (read later, by _items)
            _, parent = _earlier_and_parent(scan.threads[thread_id], post_id, position, parent_id)
            return scan.titles[thread_id][1] | (masks[parent] if parent is not None else 0)

        chosen = [
            row
            for row in scan.rows
            if wanted(
                masks[row[1]],
                thread_masks[row[1]] | (masks.get(row[4], -1) if row[4] is not None else 0),
                lambda row=row: parent_mask(row),
            )
        ]
        total = total_rows + ANALYSIS_WEIGHT * len(chosen)
        items = list(_items(scan, chosen, scanner))
        del scan, thread_masks
        replay = _replay_forked if parallel and len(items) >= PARALLEL_MIN_POSTS and _can_fork() else _replay
        report_part = replay(items, change, sample_limit=sample_limit, analysed=lambda count: tick(ANALYSIS_WEIGHT * count))
        report_part.scanned, report_part.strategy = report.scanned, report.strategy
        report = report_part
    else:
        total = total_rows
    if progress is not None:
        progress(total, total)
    report.seconds = time.perf_counter() - started
    precision = _precision_estimate(report=report, hits_after=report.hits_after)
    return report.to_dict(change=change, precision=precision)


def _can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


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
