"""Post text with evidence spans marked, built so hostile post text can never become markup.

Every text segment goes through visible_text.escape_revealing (django.utils.html.escape, plus
invisible and direction-control characters shown as tokens); only our own <mark> tags are added,
and their attributes come from a fixed category pattern (anything else is dropped). Spans are cut
from the original text by its offsets first and each slice is revealed on its own, so evidence
offsets keep pointing at the right words whatever the tokens add to the output.
"""
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from forum_helper.moderation.visible_text import escape_revealing

_CATEGORY_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass
class Span:
    start: int
    end: int
    categories: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


def spans_merge(*, evidence: list[dict[str, Any]], text_length: int) -> list[Span]:
    """Sorted, non-overlapping spans; overlapping or touching spans merge and keep all categories."""
    spans: list[Span] = []
    for item in evidence:
        try:
            start, end = int(item.get("start", 0)), int(item.get("end", 0))
        except (TypeError, ValueError):
            continue
        start, end = max(0, start), min(text_length, end)
        if end <= start:
            continue
        category = str(item.get("category") or "")
        rule = str(item.get("rule") or "")
        spans.append(Span(start, end, [category] if _CATEGORY_ID.match(category) else [], [rule] if rule else []))
    spans.sort(key=lambda span: (span.start, span.end))
    merged: list[Span] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            last.end = max(last.end, span.end)
            last.categories += [c for c in span.categories if c not in last.categories]
            last.rules += [r for r in span.rules if r not in last.rules]
        else:
            merged.append(span)
    return merged


def highlight_html(*, text: str, evidence: list[dict[str, Any]]) -> SafeString:
    """Escaped post text with each (merged) evidence span wrapped in <mark class="cat-<category>">."""
    parts: list[str] = []
    position = 0
    for span in spans_merge(evidence=evidence, text_length=len(text)):
        parts.append(escape_revealing(text[position : span.start]))
        classes = " ".join(f"cat-{category}" for category in span.categories) or "cat-unknown"
        title = escape(", ".join(span.rules))
        parts.append(f'<mark class="{classes}" title="{title}">{escape_revealing(text[span.start : span.end])}</mark>')
        position = span.end
    parts.append(escape_revealing(text[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every segment above is escaped
