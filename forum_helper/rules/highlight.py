"""Split a text into plain and highlighted segments for server-side rendering (autoescaped)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    text: str
    label: str = ""  # non-empty: highlighted, with this label as the title (e.g. "home_needling · needling.device")

    @property
    def highlighted(self) -> bool:
        return bool(self.label)


def highlight_segments(text: str, spans: Iterable[tuple[int, int, str]]) -> list[Segment]:
    """Overlapping spans merge into one highlight whose label lists every reason."""
    ordered = sorted((max(0, s), min(len(text), e), label) for s, e, label in spans if e > s)
    merged: list[list] = []
    for start, end, label in ordered:
        if start >= len(text):
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if label not in merged[-1][2]:
                merged[-1][2].append(label)
        else:
            merged.append([start, end, [label]])
    segments: list[Segment] = []
    cursor = 0
    for start, end, labels in merged:
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], "; ".join(labels) or "match"))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments
