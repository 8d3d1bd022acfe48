"""Structure of a post's text: sentences, clauses, quoted regions, and byte->str offsets.

These patterns describe text layout, not risk, so they are fixed here rather than in the
ruleset. All work is on the UTF-8 bytes RE2 scans; offsets are converted back to Python
str indices only for the spans that are reported.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import re2

from forum_helper.analysis.ruleset import re2_options

# A sentence ends at . ! ? (with closing quotes/brackets) followed by space or the end, or at
# a newline: forum posts use line breaks as sentence ends (lists, chat lines, titles).
_SENTENCE_BREAK = re2.compile(r"(?:[.!?]+(?:[\"')\]]|’|”)*(?:\s+|$))|\n", re2_options())
# Clause breaks limit negation scope: "I avoided the sun, but I roll weekly".
_CLAUSE_BREAK = re2.compile(
    r"[,;:()]|\s(?:but|however|although|though|whereas|except|unless|instead)\b|\s[-–—]+\s",
    re2_options(),
)
# Quoted material is someone else's words: Reddit/Markdown "> ", BBCode [quote], SMF
# "Quote from: X on <date>" and vBulletin "Originally Posted by X" blocks (to a blank line).
_QUOTE = re2.compile(
    r"(?m:^[ \t]*(?:>|&gt;)[^\n]*)"
    r"|(?s:\[quote[^\]]*\].*?\[/quote\])"
    r"|(?m:^[ \t]*(?:quote from:|quote:|originally posted by)[^\n]*(?:\n|$))(?s:.*?)(?:\n[ \t]*\n|$)",
    re2_options(),
)
_QUOTE_HINTS = (b">", b"uote", b"riginally")
_LIST_MARKER_BYTES = frozenset(b" \t\r\n-*\xe2\x80\xa2#")  # includes the bytes of the bullet •


@dataclass(frozen=True)
class Sentence:
    start: int  # byte offset
    content_start: int  # after leading spaces and list markers ("1. ", "- ")
    end: int
    is_question: bool


def split_sentences(data: bytes) -> list[Sentence]:
    sentences: list[Sentence] = []
    previous_end = 0
    for match in _SENTENCE_BREAK.finditer(data):
        start, end = match.span()
        if start > previous_end or end > previous_end:
            sentences.append(_make_sentence(data, previous_end, end, b"?" in data[start:end]))
        previous_end = end
    if previous_end < len(data):
        sentences.append(_make_sentence(data, previous_end, len(data), False))
    return [sentence for sentence in sentences if sentence.content_start < sentence.end]


def _make_sentence(data: bytes, start: int, end: int, is_question: bool) -> Sentence:
    position = start
    while position < end and data[position] in _LIST_MARKER_BYTES:
        position += 1
    # "1. " / "2) " list numbering
    digits_end = position
    while digits_end < end and 48 <= data[digits_end] <= 57:
        digits_end += 1
    if digits_end > position and digits_end + 1 < end and data[digits_end] in b".)" and data[digits_end + 1] in b" \t":
        position = digits_end + 2
    return Sentence(start=start, content_start=position, end=end, is_question=is_question)


def clause_breaks(data: bytes) -> list[int]:
    return [match.start() for match in _CLAUSE_BREAK.finditer(data)]


def quote_ranges(data: bytes) -> list[tuple[int, int]]:
    if not any(hint in data for hint in _QUOTE_HINTS):
        return []
    return [match.span() for match in _QUOTE.finditer(data)]


def same_clause(breaks: list[int], first: int, second: int) -> bool:
    return bisect_right(breaks, first) == bisect_right(breaks, second)


class OffsetMap:
    """Converts UTF-8 byte offsets of `data` to str indices; identity for ASCII text."""

    __slots__ = ("_data", "_ascii", "_cache")

    def __init__(self, data: bytes, text: str) -> None:
        self._data = data
        self._ascii = len(data) == len(text)
        self._cache: dict[int, int] = {0: 0}

    def char_offset(self, byte_offset: int) -> int:
        if self._ascii:
            return byte_offset
        cached = self._cache.get(byte_offset)
        if cached is not None:
            return cached
        # Decode from the nearest known offset below; offsets from RE2 always fall on
        # character boundaries because patterns and text are valid UTF-8.
        base = max(offset for offset in self._cache if offset <= byte_offset)
        chars = self._cache[base] + len(self._data[base:byte_offset].decode("utf-8", "ignore"))
        self._cache[byte_offset] = chars
        return chars
