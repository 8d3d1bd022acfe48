"""Inputs and results of the detector: small frozen dataclasses, no behaviour beyond shaping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CATEGORIES: tuple[str, ...] = (
    "home_needling",
    "cell_transfer",
    "uv_combination",
    "drug_into_wounds",
    "isotretinoin_window",
    "wound_care_risk",
    "diy_ablation",
    "koebner_risk",
)
MODIFIERS: tuple[str, ...] = ("darker_skin", "staff_author", "repeated_plan")
STANCES: tuple[str, ...] = ("planning", "recommending", "reporting", "warning", "neutral")
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "none")
AUTHOR_ROLES: tuple[str, ...] = ("member", "staff", "unknown")

AuthorRole = Literal["member", "staff", "unknown"]


@dataclass(frozen=True)
class PostInput:
    """One post as written: its text and who wrote it."""

    text: str
    author_role: AuthorRole = "member"


@dataclass(frozen=True)
class PostContext:
    """What the post is read with: the thread title, the post it replies to, earlier posts.

    Context supplies the *subject* of a reply ("increase the time" in a thread about home
    UVB); the post's own words always supply the stance.
    """

    thread_title: str = ""
    parent_text: str = ""
    thread_posts: tuple[PostInput | str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """A span of the ORIGINAL post text (Python str indices) that triggered a finding.

    `text == post_text[start:end]` always. `category` is a category or modifier id; `rule` is
    the id of the rule whose pattern matched (or, for a reply that inherits its subject from
    the thread, the context cue rule).
    """

    start: int
    end: int
    text: str
    category: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "category": self.category,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Measures:
    """Numbers read from the post. None when the post does not state them."""

    needle_mm: float | None = None
    acid_percent: float | None = None
    exposure_seconds: float | None = None
    interval_days: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "needle_mm": self.needle_mm,
            "acid_percent": self.acid_percent,
            "exposure_seconds": self.exposure_seconds,
            "interval_days": self.interval_days,
        }


@dataclass(frozen=True)
class Analysis:
    """The verdict on one post.

    Conventions:
    - `categories` is empty unless the post is risky. Evidence of a post that is not risky
      marks the mentions that make its severity "low" (category = the category mentioned).
    - Every reported category and text-borne modifier (`darker_skin`, `repeated_plan`) has at
      least one evidence span. `staff_author` is justified by `author_role` and has no span,
      because it is not in the text.
    """

    risky: bool
    severity: str
    stance: str
    categories: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    explanations: tuple[tuple[str, str], ...] = ()
    rule_ids: tuple[str, ...] = ()
    measures: Measures = field(default_factory=Measures)
    ruleset_version: int = 0

    @property
    def explanation(self) -> str:
        return "\n".join(line for _, line in self.explanations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "risky": self.risky,
            "severity": self.severity,
            "stance": self.stance,
            "categories": list(self.categories),
            "modifiers": list(self.modifiers),
            "evidence": [item.to_dict() for item in self.evidence],
            "explanation": self.explanation,
            "rule_ids": list(self.rule_ids),
            "measures": self.measures.to_dict(),
        }
