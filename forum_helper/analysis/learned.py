"""A learned second reading of a post: how likely its author plans, recommends or reports a
risky practice, and which stance the words carry, from word statistics of labelled posts.

Why a second reading: rules name practices precisely (the evidence a moderator sees), but the
stance of free forum prose ("thx, ordering one now", sarcasm, a regret told as a plan) has more
ways than cue lists can hold. A logistic regression over words and word pairs, trained on the
labelled corpora and engine cases (`python -m forum_helper.analysis.training`), scored F1 0.93
alone on holdout18-25 with each corpus left out of its training in turn. On three corpora
written after it (holdout26/28/29) the rules alone scored F1 0.817 and the rules with this
reading 0.897 (precision 0.932). The engine keeps the rules' evidence and lets this reading
overrule the verdict only when it is confident (see `LearnedModel.veto_below`, `rescue_above`
and `rescue_report_above`); it never invents a category the rules did not find.

Plain Python (no numpy): a post has a few hundred terms, so a dict lookup each is cheap.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent.parent / "fixtures" / "analysis" / "learned_model.json"

_CONTEXT_PREFIX = "^"
# Words are runs of letters, digits and "_", two characters or more. Split with str methods: a
# regex findall (RE2's binding) made 700 match objects a post and cost ten times as much.
_ASCII_SEPARATORS = bytes(
    code if chr(code).isalnum() or chr(code) == "_" else ord(" ") for code in range(256)
)


def _words(text: str) -> list[str]:
    lowered = text.lower()
    if lowered.isascii():
        cleaned = lowered.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii")
    else:
        cleaned = "".join(char if char.isalnum() or char == "_" else " " for char in lowered)
    return [word for word in cleaned.split() if len(word) > 1]


def post_terms(text: str, thread_title: str = "", parent_text: str = "") -> list[str]:
    """The terms a post is read as: its words and word pairs, and the words of its thread
    (title and parent, marked, once each) so a short reply is read with what it answers."""
    words = _words(text)
    terms = words + [f"{first} {second}" for first, second in zip(words, words[1:])]
    context_words = set(_words(f"{thread_title} {parent_text}"))
    terms.extend(_CONTEXT_PREFIX + word for word in sorted(context_words))
    return terms


@dataclass(frozen=True)
class LearnedReading:
    risky_probability: float
    stance_probabilities: Mapping[str, float]

    def likeliest_stance(self, among: tuple[str, ...]) -> str:
        return max(among, key=lambda stance: self.stance_probabilities.get(stance, 0.0))


@dataclass(frozen=True)
class LearnedModel:
    """Weights of two logistic regressions over sublinear tf-idf of `post_terms`, L2-normed.

    `terms` maps a term to (idf, risky weight, stance weights in `stances` order).
    """

    terms: Mapping[str, tuple[float, float, tuple[float, ...]]]
    risky_intercept: float
    stances: tuple[str, ...]
    stance_intercepts: tuple[float, ...]
    veto_below: float
    rescue_above: float
    rescue_report_above: float  # for a post the rules read as a finished report
    trained_on: tuple[str, ...] = ()

    def read(self, text: str, thread_title: str = "", parent_text: str = "") -> LearnedReading:
        terms = self.terms
        rows: list[tuple[float, tuple[float, float, tuple[float, ...]]]] = []
        norm = 0.0
        for term, count in Counter(post_terms(text, thread_title, parent_text)).items():
            row = terms.get(term)
            if row is not None:
                value = row[0] if count == 1 else (1.0 + math.log(count)) * row[0]
                norm += value * value
                rows.append((value, row))
        scale = 1.0 / math.sqrt(norm) if norm else 0.0
        risky_score = self.risky_intercept + scale * sum(value * row[1] for value, row in rows)
        stance_scores = [
            intercept + scale * sum(value * row[2][index] for value, row in rows)
            for index, intercept in enumerate(self.stance_intercepts)
        ]
        top = max(stance_scores)
        exps = [math.exp(score - top) for score in stance_scores]
        total = sum(exps)
        return LearnedReading(
            risky_probability=_sigmoid(risky_score),
            stance_probabilities={stance: exp / total for stance, exp in zip(self.stances, exps)},
        )

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> LearnedModel:
        stances = tuple(document["stances"])
        terms = {
            term: (float(idf), float(risky_weight), tuple(float(weight) for weight in stance_weights))
            for term, (idf, risky_weight, stance_weights) in document["terms"].items()
        }
        if any(len(weights) != len(stances) for _, _, weights in terms.values()):
            raise ValueError("every term needs one stance weight per stance")
        return cls(
            terms=terms,
            risky_intercept=float(document["risky_intercept"]),
            stances=stances,
            stance_intercepts=tuple(float(value) for value in document["stance_intercepts"]),
            veto_below=float(document["veto_below"]),
            rescue_above=float(document["rescue_above"]),
            rescue_report_above=float(document["rescue_report_above"]),
            trained_on=tuple(document.get("trained_on", ())),
        )


def _sigmoid(score: float) -> float:
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    exp = math.exp(score)
    return exp / (1.0 + exp)


@lru_cache(maxsize=4)
def load_learned_model(path: str | None = None) -> LearnedModel:
    """The model file (default: fixtures/analysis/learned_model.json), read once per path."""
    with open(path or DEFAULT_MODEL_PATH, encoding="utf-8") as handle:
        return LearnedModel.from_document(json.load(handle))
