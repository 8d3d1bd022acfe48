"""Rules are data: validate JSON-able rule records and compile them into one RE2 scanner.

A rule record is `{"id", "kind", "category", "mode", "description", "data"}`. Kinds:

matchers (each compiles to one RE2 pattern; `data` holds `terms` (lexicon syntax) or `regex`):
- `lexicon` / `pattern`: a concept (`data.concept`) such as `needling` or `drug`. With a
  `category` the concept on its own proves that category when the author endorses it.
  Options: `modifier` (report a modifier instead), `requires_first_person`, `min_percent`
  (an acid counts only at or above this strength, stated in the same sentence),
  `needs_context` (an ambiguous word like "lamp" counts only when a listed concept is present
  in the post or its thread), `suppresses` (hits of the listed concepts that overlap this
  rule's hit are dropped: "rolling scars" is a scar type, "microneedle RF" a clinic device),
  `setting_ambiguous` (a procedure name like "microneedling" that may be done in a clinic:
  endorsed only when the post places nothing in a clinic, or also says "at home" or names a
  device).
- `stance_cue`: a signal for the sentence stance (`data.stance`: planning, recommending,
  reporting_ongoing, reporting_past, warning, neutral, sarcasm), with `weight`, `position`
  (any | sentence_start | clause_start) and `question_only`.
- `clinician_cue` (treatment done by a clinician), `home_cue` (done by the author, cancels a
  clinician cue), `hypothetical_cue`, `person_cue` (`data.person`: first | second),
  `context_cue` (words by which a reply refers to the thread's subject).
- `negation_cue`: negates the concepts that follow it in the same clause, within
  `data.scope_chars` characters.
- `measure`: a number (`data.measure`: needle_mm | acid_percent | exposure_seconds |
  interval_days) from capture group 1 times `scale`, or a fixed `value`; `data.concept`
  names the concept the measure also provides (e.g. `schedule`).

logic (no pattern):
- `combination`: `category` or `data.concept` (a derived concept) when all of `data.all`
  and one of `data.any` are present, at least one of `data.anchors` endorsed by the author;
  `data.scope` = post | sentence; `data.window` = at most this many sentences between an
  endorsed anchor and a partner named in the post ("tretinoin right after rolling", not a
  drug list three sentences away); partners known only from the thread always qualify;
  `data.own_partners` = true: a partner a clinician performed ("my derm did CO2") does not
  count, only the author's own or the thread's (dressing a clinic wound as told is aftercare).
- `severity`: `data.severity` when each group in `data.all_of` meets the categories, and
  optional `stances` / `author_roles` match; evaluated in order, first match wins.
- `explanation`: `data.target` (category, modifier or "severity") and `data.text`.

Lexicon term syntax: words separated by spaces match with any run of spaces, hyphens or
dots between them ("derma roller" matches dermaroller, derma-roller, Derma Roller); a
trailing `*` matches any word ending ("needl*"). Matching is case-insensitive, and every
apostrophe in a term or regex also matches the typographic one (U+2019) phones type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import re2

from forum_helper.analysis.learned import LearnedModel
from forum_helper.analysis.model import CATEGORIES, MODIFIERS

MATCHER_KINDS = frozenset(
    {
        "lexicon",
        "pattern",
        "stance_cue",
        "clinician_cue",
        "home_cue",
        "hypothetical_cue",
        "person_cue",
        "context_cue",
        "negation_cue",
        "measure",
    }
)
CONCEPT_KINDS = frozenset({"lexicon", "pattern", "measure"})
LOGIC_KINDS = frozenset({"combination", "severity", "explanation"})
RULE_KINDS = MATCHER_KINDS | LOGIC_KINDS
RULE_MODES = frozenset({"active", "shadow", "disabled"})
CUE_STANCES = frozenset(
    {"planning", "recommending", "reporting_ongoing", "reporting_past", "warning", "neutral", "sarcasm"}
)
MEASURE_NAMES = frozenset({"needle_mm", "acid_percent", "exposure_seconds", "interval_days"})
POSITIONS = frozenset({"any", "sentence_start", "clause_start"})

DEFAULT_RULESET_PATH = (
    Path(__file__).resolve().parent.parent.parent / "fixtures" / "analysis" / "default_ruleset.json"
)

# Separator allowed between the words of a lexicon term: "derma roller" ~ "derma-roller".
_TERM_SEPARATOR = r"[\s\-.]*"


class RulesetError(ValueError):
    """A rule record is invalid; names the rule so the rules admin can point at it."""

    def __init__(self, rule_id: str, message: str) -> None:
        super().__init__(f"rule {rule_id!r}: {message}")
        self.rule_id = rule_id
        self.message = message


@dataclass(frozen=True)
class Matcher:
    """One compiled pattern and what a hit of it means."""

    rule_id: str
    kind: str
    source: str
    regex: Any  # re2._Regexp; RE2 objects are immutable and safe to share between threads
    concept: str | None = None
    category: str | None = None
    modifier: str | None = None
    signal: str | None = None  # stance / clinic / home / hypothetical / first / second / context
    weight: float = 1.0
    position: str = "any"
    question_only: bool = False
    requires_first_person: bool = False
    min_percent: float | None = None
    needs_context: tuple[str, ...] = ()
    suppresses: tuple[str, ...] = ()
    setting_ambiguous: bool = False
    measure: str | None = None
    scale: float = 1.0
    value: float | None = None
    scope_chars: int = 0


@dataclass(frozen=True)
class Combination:
    rule_id: str
    category: str | None
    concept: str | None
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    anchors: tuple[str, ...]
    scope: str
    description: str
    window: int | None = None  # sentences between an anchor and its partner; None = anywhere
    # partners must be the author's own (not a clinician's procedure) or come from the thread
    own_partners: bool = False


@dataclass(frozen=True)
class SeverityRule:
    rule_id: str
    severity: str
    all_of: tuple[tuple[str, ...], ...]
    stances: tuple[str, ...]
    author_roles: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class CompiledRuleset:
    """Everything analyze() needs, built once. Immutable and safe to share between threads."""

    version: int
    matchers: tuple[Matcher, ...]
    pattern_set: Any  # re2.Set over every matcher's pattern, same indices as `matchers`
    # The engine scans a whole post for concepts (rare), then scans only the sentences around
    # them for cues (frequent words like "I", "not"): two Sets, each with its own indices.
    concept_matchers: tuple[Matcher, ...]
    concept_set: Any
    signal_matchers: tuple[Matcher, ...]
    signal_set: Any
    combinations: tuple[Combination, ...]
    severity_rules: tuple[SeverityRule, ...]
    explanations: Mapping[str, str]
    category_of_concept: Mapping[str, str]
    # Every concept that takes part in a category (directly or in a combination), for the
    # "mentioned but not endorsed" evidence of posts that are not risky.
    mention_category_of_concept: Mapping[str, str]
    rule_ids: tuple[str, ...]
    # The learned second reading (learned.py), or None for the rules alone.
    learned: LearnedModel | None = None

    @property
    def patterns(self) -> tuple[str, ...]:
        """The RE2 sources, in Set order (the benchmark scans these bare)."""
        return tuple(matcher.source for matcher in self.matchers)


# Memory RE2 may give a pattern's or a Set's DFA. With RE2's default (8 MiB) the Set of the
# ruleset's ~200 case-insensitive patterns runs out of DFA cache every few texts, starts the
# cache afresh and scans at ~350 us a text; with room for its states it settles near ~10 us.
# The memory is taken only as states are built.
RE2_MAX_MEM = 64 << 20


def re2_options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # errors are raised as RulesetError instead
    options.max_mem = RE2_MAX_MEM
    return options


def term_to_regex(term: str) -> str:
    """Turn one lexicon term into an RE2 pattern (see module docstring for the syntax)."""
    term = term.strip()
    prefix_match = term.endswith("*")
    if prefix_match:
        term = term[:-1]
    words = [re2.escape(word) for word in term.split()]
    body = _TERM_SEPARATOR.join(words)
    if prefix_match:
        body += r"\w*"
    starts_with_word = term[:1].isalnum() or term[:1] == "_"
    ends_with_word = prefix_match or term[-1:].isalnum() or term[-1:] == "_"
    return (r"\b" if starts_with_word else "") + body + (r"\b" if ends_with_word else "")


def load_default_rules(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read the rule records of the default ruleset file (`{"version", "rules"}`)."""
    document = load_ruleset_document(path)
    return list(document["rules"])


def load_ruleset_document(path: str | Path | None = None) -> dict[str, Any]:
    with open(path or DEFAULT_RULESET_PATH, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RulesetError("<file>", 'expected {"version": int, "rules": [...]}')
    return document


def compile_ruleset(
    rules: Iterable[Mapping[str, Any]],
    version: int = 0,
    *,
    include_shadow: bool = False,
    learned: LearnedModel | None = None,
) -> CompiledRuleset:
    """Validate rule records and compile the active ones (and shadow ones if asked)."""
    matchers: list[Matcher] = []
    combinations: list[Combination] = []
    severity_rules: list[SeverityRule] = []
    explanations: dict[str, str] = {}
    category_of_concept: dict[str, str] = {}
    concept_categories: dict[str, tuple[str | None, str]] = {}
    seen_ids: set[str] = set()

    for record in rules:
        rule_id = _validate_envelope(record, seen_ids)
        mode = record.get("mode", "active")
        if mode == "disabled" or (mode == "shadow" and not include_shadow):
            continue
        kind = record["kind"]
        data = record.get("data") or {}
        category = record.get("category")
        if kind in MATCHER_KINDS:
            matcher = _compile_matcher(rule_id, kind, category, data)
            matchers.append(matcher)
            if matcher.kind in ("lexicon", "pattern") and matcher.concept:
                # A concept either proves one category on its own or none: mixing would make
                # every rule of that concept prove the category.
                known = concept_categories.setdefault(matcher.concept, (matcher.category, rule_id))
                if known[0] != matcher.category:
                    raise RulesetError(
                        rule_id,
                        f"concept {matcher.concept!r} has category {matcher.category!r} here but "
                        f"{known[0]!r} in rule {known[1]!r}; give each concept one category",
                    )
                if matcher.category:
                    category_of_concept[matcher.concept] = matcher.category
        elif kind == "combination":
            combinations.append(_compile_combination(rule_id, category, data, record))
        elif kind == "severity":
            severity_rules.append(_compile_severity(rule_id, data, record))
        elif kind == "explanation":
            target = _require_str(rule_id, data, "target")
            explanations[target] = _require_str(rule_id, data, "text")

    concept_matchers = tuple(matcher for matcher in matchers if matcher.kind in CONCEPT_KINDS)
    signal_matchers = tuple(matcher for matcher in matchers if matcher.kind not in CONCEPT_KINDS)
    return CompiledRuleset(
        version=version,
        matchers=tuple(matchers),
        pattern_set=_build_set(matchers),
        concept_matchers=concept_matchers,
        concept_set=_build_set(concept_matchers),
        signal_matchers=signal_matchers,
        signal_set=_build_set(signal_matchers),
        combinations=tuple(combinations),
        severity_rules=tuple(severity_rules),
        # read-only views: the compiled ruleset is shared between threads and analyses
        explanations=MappingProxyType(explanations),
        category_of_concept=MappingProxyType(category_of_concept),
        mention_category_of_concept=MappingProxyType(_mention_categories(matchers, combinations, category_of_concept)),
        rule_ids=tuple(sorted(seen_ids)),
        learned=learned,
    )


def _mention_categories(
    matchers: list[Matcher], combinations: list[Combination], category_of_concept: Mapping[str, str]
) -> dict[str, str]:
    measured_only = {m.concept for m in matchers if m.kind == "measure"} - {
        m.concept for m in matchers if m.kind != "measure"
    }
    mentions = dict(category_of_concept)
    for combination in combinations:
        if not combination.category:
            continue
        for concept in combination.all_of + combination.any_of:
            if concept not in measured_only:
                mentions.setdefault(concept, combination.category)
    # Derived concepts (e.g. "isotretinoin_recent") stand for the parts that name something
    # (lexicon terms such as "accutane"), not for qualifiers such as "2 weeks ago".
    named = {m.concept for m in matchers if m.kind == "lexicon"}
    for combination in combinations:
        if combination.concept and combination.concept in mentions:
            for concept in combination.all_of + combination.any_of:
                if concept not in measured_only and concept in named:
                    mentions.setdefault(concept, mentions[combination.concept])
    return mentions


def _build_set(matchers: Iterable[Matcher]) -> Any:
    pattern_set = re2.Set.SearchSet(re2_options())
    count = 0
    for matcher in matchers:
        try:
            pattern_set.Add(matcher.source)
        except re2.error as error:  # pragma: no cover - the per-rule compile catches it first
            raise RulesetError(matcher.rule_id, f"RE2 set rejected pattern: {error}") from error
        count += 1
    if count:
        pattern_set.Compile()
    return pattern_set


def _validate_envelope(record: Mapping[str, Any], seen_ids: set[str]) -> str:
    if not isinstance(record, Mapping):
        raise RulesetError("<unknown>", f"a rule must be an object, got {type(record).__name__}")
    rule_id = record.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise RulesetError(str(rule_id), "id must be a non-empty string")
    if rule_id in seen_ids:
        raise RulesetError(rule_id, "duplicate id")
    seen_ids.add(rule_id)
    kind = record.get("kind")
    if kind not in RULE_KINDS:
        raise RulesetError(rule_id, f"unknown kind {kind!r}; expected one of {sorted(RULE_KINDS)}")
    mode = record.get("mode", "active")
    if mode not in RULE_MODES:
        raise RulesetError(rule_id, f"unknown mode {mode!r}; expected one of {sorted(RULE_MODES)}")
    category = record.get("category")
    if category is not None and category not in CATEGORIES:
        raise RulesetError(rule_id, f"unknown category {category!r}")
    data = record.get("data", {})
    if data is not None and not isinstance(data, Mapping):
        raise RulesetError(rule_id, "data must be an object")
    return rule_id


def _require_str(rule_id: str, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RulesetError(rule_id, f"data.{key} must be a non-empty string")
    return value


def _string_tuple(rule_id: str, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RulesetError(rule_id, f"data.{key} must be a list of strings")
    return tuple(value)


def _pattern_source(rule_id: str, kind: str, data: Mapping[str, Any]) -> str:
    if "regex" in data:
        source = data["regex"]
        if not isinstance(source, str) or not source:
            raise RulesetError(rule_id, "data.regex must be a non-empty string")
    elif "terms" in data:
        terms = _string_tuple(rule_id, data, "terms")
        if not terms or not all(term.strip() for term in terms):
            raise RulesetError(rule_id, "data.terms must hold at least one non-empty term")
        # Longest first so an alternation prefers "derma roller" over "derma".
        source = "|".join(term_to_regex(term) for term in sorted(terms, key=len, reverse=True))
    else:
        raise RulesetError(rule_id, f"a {kind} rule needs data.terms or data.regex")
    return f"(?:{_accept_typographic_apostrophes(source)})"


def _accept_typographic_apostrophes(source: str) -> str:
    """Let every apostrophe in a pattern also match the typographic one (U+2019) that phone
    keyboards type: "don't" must match "don’t". Inside a character class the character is
    added; elsewhere `'` becomes a two-character class."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source):
            escaped = source[index + 1]
            if escaped == "'":
                out.append("'\u2019" if in_class else "['\u2019]")
            else:
                out.append(source[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class and source[index - 1] != "[":
            in_class = False
        if char == "'":
            out.append("'\u2019" if in_class else "['\u2019]")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _number(rule_id: str, data: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = data.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise RulesetError(rule_id, f"data.{key} must be a number")
    return None if value is None else float(value)


def _compile_matcher(
    rule_id: str, kind: str, category: str | None, data: Mapping[str, Any]
) -> Matcher:
    source = _pattern_source(rule_id, kind, data)
    try:
        regex = re2.compile(source, re2_options())
    except re2.error as error:
        raise RulesetError(rule_id, f"invalid RE2 pattern {source!r}: {error}") from error

    position = data.get("position", "any")
    if position not in POSITIONS:
        raise RulesetError(rule_id, f"data.position must be one of {sorted(POSITIONS)}")
    weight = _number(rule_id, data, "weight", 1.0) or 0.0
    common: dict[str, Any] = {
        "rule_id": rule_id,
        "kind": kind,
        "source": source,
        "regex": regex,
        "weight": weight,
        "position": position,
        "question_only": bool(data.get("question_only", False)),
    }

    if kind in ("lexicon", "pattern"):
        concept = data.get("concept")
        modifier = data.get("modifier")
        if modifier is not None and modifier not in MODIFIERS:
            raise RulesetError(rule_id, f"unknown modifier {modifier!r}")
        if not isinstance(concept, str) or not concept:
            if modifier is None:
                raise RulesetError(rule_id, "data.concept must be a non-empty string")
            concept = modifier
        return Matcher(
            **common,
            concept=concept,
            category=category,
            modifier=modifier,
            requires_first_person=bool(data.get("requires_first_person", False)),
            min_percent=_number(rule_id, data, "min_percent", None),
            needs_context=_string_tuple(rule_id, data, "needs_context"),
            suppresses=_string_tuple(rule_id, data, "suppresses"),
            setting_ambiguous=bool(data.get("setting_ambiguous", False)),
        )
    if kind == "stance_cue":
        stance = data.get("stance")
        if stance not in CUE_STANCES:
            raise RulesetError(rule_id, f"data.stance must be one of {sorted(CUE_STANCES)}")
        return Matcher(**common, signal=stance)
    if kind == "person_cue":
        person = data.get("person")
        if person not in ("first", "second"):
            raise RulesetError(rule_id, "data.person must be 'first' or 'second'")
        return Matcher(**common, signal=f"{person}_person")
    if kind in ("clinician_cue", "home_cue", "hypothetical_cue", "context_cue"):
        return Matcher(**common, signal=kind.removesuffix("_cue"))
    if kind == "negation_cue":
        scope = _number(rule_id, data, "scope_chars", 40.0)
        return Matcher(**common, signal="negation", scope_chars=int(scope or 0))
    # measure
    measure = data.get("measure")
    if measure not in MEASURE_NAMES:
        raise RulesetError(rule_id, f"data.measure must be one of {sorted(MEASURE_NAMES)}")
    value = _number(rule_id, data, "value", None)
    if value is None and regex.groups < 1:
        raise RulesetError(rule_id, "a measure needs a capture group for the number or data.value")
    return Matcher(
        **common,
        concept=data.get("concept") or measure,
        measure=measure,
        scale=_number(rule_id, data, "scale", 1.0) or 1.0,
        value=value,
    )


def _compile_combination(
    rule_id: str, category: str | None, data: Mapping[str, Any], record: Mapping[str, Any]
) -> Combination:
    concept = data.get("concept")
    if category is None and not (isinstance(concept, str) and concept):
        raise RulesetError(rule_id, "a combination needs a category or data.concept")
    all_of = _string_tuple(rule_id, data, "all")
    any_of = _string_tuple(rule_id, data, "any")
    if not all_of and not any_of:
        raise RulesetError(rule_id, "a combination needs data.all or data.any")
    anchors = _string_tuple(rule_id, data, "anchors") or all_of + any_of
    scope = data.get("scope", "post")
    if scope not in ("post", "sentence"):
        raise RulesetError(rule_id, "data.scope must be 'post' or 'sentence'")
    window = data.get("window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 0):
        raise RulesetError(rule_id, "data.window must be a non-negative integer (sentences)")
    own_partners = data.get("own_partners", False)
    if not isinstance(own_partners, bool):
        raise RulesetError(rule_id, "data.own_partners must be true or false")
    return Combination(
        rule_id=rule_id,
        category=category,
        concept=concept if category is None else None,
        all_of=all_of,
        any_of=any_of,
        anchors=anchors,
        scope=scope,
        description=str(record.get("description", "")),
        window=window,
        own_partners=own_partners,
    )


def _compile_severity(rule_id: str, data: Mapping[str, Any], record: Mapping[str, Any]) -> SeverityRule:
    severity = data.get("severity")
    if severity not in ("high", "medium", "low"):
        raise RulesetError(rule_id, "data.severity must be high, medium or low")
    groups = data.get("all_of", [])
    if not isinstance(groups, list) or not all(
        isinstance(group, list) and group and all(item in CATEGORIES for item in group)
        for group in groups
    ):
        raise RulesetError(rule_id, "data.all_of must be a list of non-empty lists of categories")
    return SeverityRule(
        rule_id=rule_id,
        severity=severity,
        all_of=tuple(tuple(group) for group in groups),
        stances=_string_tuple(rule_id, data, "stances"),
        author_roles=_string_tuple(rule_id, data, "author_roles"),
        description=str(record.get("description", "")),
    )
