"""Reads of rules: the compiled ruleset screening uses, history, diffs, precision and hit counts."""
from __future__ import annotations

import difflib
import json
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from forum_helper.analysis import Analysis, CompiledRuleset, PostContext, PostInput, analyze, compile_ruleset
from forum_helper.analysis.learned import LearnedModel, load_learned_model
from forum_helper.moderation.models import Decision
from forum_helper.rules.models import Rule, RuleMode, RuleRevision, RulesetVersion


@dataclass(frozen=True)
class ActiveRuleset:
    version: int
    compiled: CompiledRuleset
    # rule id -> revision id, recorded on each finding.
    rule_revisions: dict[str, int] = field(default_factory=dict)
    # Rules compiled in only because they are in shadow mode (empty for the active ruleset).
    shadow_rule_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RulesetEntry:
    record: dict[str, Any]
    revision_id: int


# Compiled rulesets per process, keyed by the latest version row. Every call costs one
# indexed query, so a worker sees a new version on its next screening, without a restart.
_CACHE_SIZE = 4
_cache: dict[tuple[Any, ...], ActiveRuleset] = {}
_cache_lock = threading.Lock()


def ruleset_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def ruleset_version_latest() -> RulesetVersion | None:
    return RulesetVersion.objects.order_by("-number").first()


def ruleset_entries_at(*, number: int) -> list[RulesetEntry]:
    """Every rule as it stood at ruleset version `number` (any mode), in compile order."""
    positions = dict(Rule.objects.values_list("pk", "position"))
    latest: dict[int, tuple[int, dict, int]] = {}
    revisions = (
        RuleRevision.objects.filter(ruleset_version__number__lte=number)
        .order_by("rule_id", "number")
        .values_list("rule_id", "pk", "snapshot")
    )
    for rule_pk, revision_id, snapshot in revisions.iterator(chunk_size=2000):
        latest[rule_pk] = (rule_pk, snapshot, revision_id)
    ordered = sorted(latest.values(), key=lambda item: (positions.get(item[0], 0), item[0]))
    return [RulesetEntry(record=snapshot, revision_id=revision_id) for _, snapshot, revision_id in ordered]


def learned_model() -> LearnedModel | None:
    """The learned second reading every active ruleset is compiled with (None: rules alone)."""
    return load_learned_model() if settings.DETECTOR_LEARNED_READING else None


def _ruleset_build(*, version: RulesetVersion, shadow: bool) -> ActiveRuleset:
    entries = ruleset_entries_at(number=version.number)
    modes = {RuleMode.ACTIVE, RuleMode.SHADOW} if shadow else {RuleMode.ACTIVE}
    chosen = [entry for entry in entries if entry.record.get("mode") in modes]
    compiled = compile_ruleset(
        [entry.record for entry in chosen], version=version.number, include_shadow=shadow, learned=learned_model()
    )
    return ActiveRuleset(
        version=version.number,
        compiled=compiled,
        rule_revisions={entry.record["id"]: entry.revision_id for entry in chosen},
        shadow_rule_ids=frozenset(e.record["id"] for e in chosen if e.record.get("mode") == RuleMode.SHADOW),
    )


def _ruleset_cached(*, shadow: bool, number: int | None = None) -> ActiveRuleset:
    versions = RulesetVersion.objects.order_by("-number")
    if number is not None:
        versions = versions.filter(number=number)
    row = versions.values_list("pk", "number", "created_at").first()
    if row is None:
        if number is not None:
            raise RulesetVersion.DoesNotExist(f"No ruleset version {number}")
        _default_ruleset_load()
        row = versions.values_list("pk", "number", "created_at").first()
    key = (*row, shadow, settings.DETECTOR_LEARNED_READING)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    built = _ruleset_build(version=RulesetVersion.objects.get(pk=row[0]), shadow=shadow)
    with _cache_lock:
        while len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = built
    return built


def _default_ruleset_load() -> None:
    """Automatic first load: a database with no ruleset at all (the migration's rows were
    flushed, say) gets the default rules rather than failing every screening."""
    from django.db import IntegrityError

    from forum_helper.analysis import load_default_rules
    from forum_helper.rules.services import ruleset_import

    try:
        ruleset_import(actor=None, records=load_default_rules(), reason="automatic first load: the database held no ruleset")
    except IntegrityError:
        pass  # another process loaded it at the same moment


def ruleset_active() -> ActiveRuleset:
    """The ruleset screening uses now: the active rules of the latest ruleset version."""
    return _ruleset_cached(shadow=False)


def ruleset_shadow(*, version: int | None = None) -> ActiveRuleset:
    """Active plus shadow rules (of the latest version, or of `version`), for recording what
    shadow rules would flag."""
    return _ruleset_cached(shadow=True, number=version)


def ruleset_shadow_for(*, version: int | None) -> ActiveRuleset:
    """The shadow ruleset of ruleset version `version` (the latest when it is unknown or gone)."""
    try:
        return ruleset_shadow(version=version or None)
    except RulesetVersion.DoesNotExist:
        return ruleset_shadow()


def shadow_result_for(
    post_input: PostInput, context: PostContext, active_analysis: Analysis, *, shadow: ActiveRuleset | None = None
) -> tuple[list[str], dict[str, Any] | None]:
    """What shadow rules would have flagged on this post: (shadow rule ids that fired, analysis dict).

    Uses the shadow rules of the ruleset version the active analysis ran under, so a rule
    change landing in between cannot mix two versions in one finding. ([], None) when no
    shadow rule fired. The dict is Analysis.to_dict() plus "differs_from_active".
    `shadow`: ruleset_shadow_for(version=active_analysis.ruleset_version), when the caller
    already holds it (a screening batch looks it up once, not once per post).
    """
    if shadow is None:
        shadow = ruleset_shadow_for(version=active_analysis.ruleset_version)
    if not shadow.shadow_rule_ids:
        return [], None
    analysis = analyze(post_input, context, shadow.compiled)
    fired = sorted(set(analysis.rule_ids) & shadow.shadow_rule_ids)
    if not fired:
        return [], None
    result = analysis.to_dict()
    result["differs_from_active"] = (
        analysis.risky != active_analysis.risky
        or analysis.severity != active_analysis.severity
        or list(analysis.categories) != list(active_analysis.categories)
    )
    return fired, result


# --- history and diffs ---------------------------------------------------------------------


def rule_list() -> QuerySet[Rule]:
    return Rule.objects.select_related("current_revision").order_by("position", "pk")


def rule_get(*, rule_id: str) -> Rule | None:
    return Rule.objects.select_related("current_revision").filter(rule_id=rule_id).first()


def rule_revisions(*, rule: Rule) -> QuerySet[RuleRevision]:
    return rule.revisions.select_related("actor", "ruleset_version").order_by("-number")


_RECORD_ORDER = ("id", "kind", "category", "mode", "description", "data")


def _record_lines(record: dict[str, Any] | None) -> list[str]:
    """The record as indented JSON in a stable order (jsonb does not keep key order):
    the envelope in reading order, everything inside `data` sorted."""
    if record is None:
        return []
    ordered = {key: record[key] for key in _RECORD_ORDER if key in record}
    ordered.update({key: record[key] for key in sorted(record) if key not in ordered})
    ordered = {key: json.loads(json.dumps(value, sort_keys=True)) for key, value in ordered.items()}
    return (json.dumps(ordered, indent=2, ensure_ascii=False) + "\n").splitlines(keepends=True)


def rule_revision_diff(*, rule: Rule, a: int, b: int) -> str:
    """Unified diff of two revisions (by number) of one rule; empty when they are equal."""
    snapshots = dict(rule.revisions.filter(number__in=[a, b]).values_list("number", "snapshot"))
    missing = [n for n in (a, b) if n not in snapshots]
    if missing:
        raise RuleRevision.DoesNotExist(f"{rule.rule_id} has no revision {missing[0]}")
    return "".join(
        difflib.unified_diff(
            _record_lines(snapshots[a]),
            _record_lines(snapshots[b]),
            fromfile=f"{rule.rule_id} rev {a}",
            tofile=f"{rule.rule_id} rev {b}",
        )
    )


def ruleset_version_diff(*, a: int, b: int) -> str:
    """Unified diff, rule by rule, of the whole ruleset at versions a and b."""
    before = {entry.record["id"]: entry.record for entry in ruleset_entries_at(number=a)}
    after = {entry.record["id"]: entry.record for entry in ruleset_entries_at(number=b)}
    chunks: list[str] = []
    for rule_id in sorted(set(before) | set(after)):
        if before.get(rule_id) == after.get(rule_id):
            continue
        chunks.extend(
            difflib.unified_diff(
                _record_lines(before.get(rule_id)),
                _record_lines(after.get(rule_id)),
                fromfile=f"{rule_id} @ v{a}" if rule_id in before else "/dev/null",
                tofile=f"{rule_id} @ v{b}" if rule_id in after else "/dev/null",
            )
        )
    return "".join(chunks)


# --- precision and hits --------------------------------------------------------------------


@dataclass(frozen=True)
class RulePrecision:
    confirmed: int
    dismissed: int

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.dismissed
        return self.confirmed / decided if decided else None


def post_version_verdicts(*, post_version_ids: list[int] | None = None) -> dict[int, str]:
    """Latest standing moderator verdict per post version: "confirm" or "dismiss"."""
    decisions = Decision.objects.filter(undone=False, kind__in=["confirm", "dismiss"])
    if post_version_ids is not None:
        decisions = decisions.filter(finding__post_version_id__in=post_version_ids)
    verdicts: dict[int, str] = {}
    rows = decisions.order_by("pk").values_list("finding__post_version_id", "kind")
    for post_version_id, kind in rows.iterator(chunk_size=2000):
        verdicts[post_version_id] = kind  # later decisions win
    return verdicts


def rule_precision() -> dict[str, RulePrecision]:
    """Per rule: findings it fired on that moderators confirmed vs dismissed (latest decision per finding)."""
    per_finding: dict[int, tuple[str, list[str]]] = {}
    rows = (
        Decision.objects.filter(undone=False, kind__in=["confirm", "dismiss"])
        .order_by("pk")
        .values_list("finding_id", "kind", "finding__rule_ids")
    )
    for finding_id, kind, rule_ids in rows.iterator(chunk_size=2000):
        per_finding[finding_id] = (kind, rule_ids or [])
    confirmed: Counter[str] = Counter()
    dismissed: Counter[str] = Counter()
    for kind, rule_ids in per_finding.values():
        (confirmed if kind == "confirm" else dismissed).update(set(rule_ids))
    return {
        rule_id: RulePrecision(confirmed=confirmed[rule_id], dismissed=dismissed[rule_id])
        for rule_id in set(confirmed) | set(dismissed)
    }


@dataclass(frozen=True)
class RuleHits:
    hits: int  # distinct post versions the rule fired on
    shadow_hits: int  # distinct post versions the rule would have fired on in shadow mode


def rule_hit_counts(*, since: datetime | None = None) -> dict[str, RuleHits]:
    from forum_helper.screening.models import Finding

    findings = Finding.objects.all()
    if since is not None:
        findings = findings.filter(created_at__gte=since)
    hits: dict[str, set[int]] = defaultdict(set)
    shadow_hits: dict[str, set[int]] = defaultdict(set)
    rows = findings.values_list("post_version_id", "rule_ids", "shadow_rule_ids")
    for post_version_id, rule_ids, shadow_rule_ids in rows.iterator(chunk_size=2000):
        for rule_id in rule_ids or []:
            hits[rule_id].add(post_version_id)
        for rule_id in shadow_rule_ids or []:
            shadow_hits[rule_id].add(post_version_id)
    return {
        rule_id: RuleHits(hits=len(hits.get(rule_id, ())), shadow_hits=len(shadow_hits.get(rule_id, ())))
        for rule_id in set(hits) | set(shadow_hits)
    }


def rule_hits_by_day(*, rule_id: str, days: int = 30) -> list[tuple[date, int]]:
    """Findings per day (UTC) the rule fired on, oldest first, zero days included."""
    from forum_helper.screening.models import Finding

    today = timezone.now().date()
    first = today - timedelta(days=days - 1)
    counts: Counter[date] = Counter()
    rows = Finding.objects.filter(created_at__date__gte=first).values_list("created_at", "rule_ids")
    for created_at, rule_ids in rows.iterator(chunk_size=2000):
        if rule_id in (rule_ids or []):
            counts[created_at.date()] += 1
    return [(first + timedelta(days=offset), counts[first + timedelta(days=offset)]) for offset in range(days)]
