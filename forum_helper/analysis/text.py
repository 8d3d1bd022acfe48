"""Structure of a post's text: sentences, clauses, quoted regions, and byte->str offsets.

These patterns describe text layout, not risk, so they are fixed here rather than in the
ruleset. All work is on the UTF-8 bytes RE2 scans; offsets are converted back to Python
str indices only for the spans that are reported.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterable

import re2

from forum_helper.analysis.ruleset import re2_options

# Clause breaks limit negation scope: "I avoided the sun, but I roll weekly". A run-on
# " just " starts a new instruction ("if your derm won't give you phototherapy just buy a
# lamp"); right after the negation it is part of it ("don't just roll"), and a break at the
# negation's own end does not separate anything.
_CLAUSE_MARKERS = (
    b",", b";", b":", b"(", b")", b" but ", b" however", b" although ", b" though ", b" whereas ",
    b" except ", b" unless ", b" instead ", b" - ", " – ".encode(), " — ".encode(), b" just ",
    # a subordinate clause has its own polarity: "not gonna pay 400 for a peel when TCA is 15
    # bucks online", "not sure if I should roll"
    b" when ", b" because ", b" while ", b" if ",
)
# Quoted material is someone else's words: Reddit/Markdown "> ", BBCode [quote], SMF
# "Quote from: X on <date>" and vBulletin "Originally Posted by X" blocks (to a blank line),
# the "Q:" of a "Q: ... A: ..." answer, a line that opens with a quotation, a question in
# quotation marks, and speech reported in quotation marks.
_QUOTE = re2.compile(
    r"(?m:^[ \t]*(?:>|&gt;)[^\n]*)"
    r"|(?s:\[quote[^\]]*\].*?\[/quote\])"
    r"|(?m:^[ \t]*(?:quote from:|quote:|originally posted by)[^\n]*(?:\n|$))(?s:.*?)(?:\n[ \t]*\n|$)"
    # an FAQ-style answer repeats the question it answers: "Q: ... A: ..."
    r"|(?m:^[ \t]*Q\s*:)(?s:.*?)(?:\bA\s*:)"
    # a line that opens with someone's words in quotation marks ("just roll 1mm bro" - no.)
    r'|(?m:^[ \t]*"[^"\n]{12,400}")|(?m:^[ \t]*“[^”\n]{12,400}”)'
    # someone's words introduced by a colon: my friend sent me her plan: "roll 1mm ..."
    r'|:[ \t]*"[^"\n]{12,400}"|:[ \t]*“[^”\n]{12,400}”'
    # words in single quotation marks, opened after a space ('stamp your normal skin, then
    # the patch' advice); an apostrophe inside ("don't") ends the attempt, so contractions
    # and possessives are not taken for quotes. Five words at least: a scare-quoted name
    # ("those 'home fractional laser' pens", "'medical grade' TCA") is the author's own words.
    r"|(?:^|[\s(\[])'[A-Za-z][^'\s]*(?:[ \t]+[^'\s]+){4,60}'"
    # a question in quotation marks is the question being answered
    r'|"[^"\n]{8,300}\?"|“[^”\n]{8,300}\?”'
    # reported speech: stop asking "how deep should i needle", people saying "just roll it"
    r'|\b(?:ask(?:ing|ed|s)?|say(?:ing|s)?|said|post(?:ing|ed|s)?|writ(?:e|es|ing)|wrote|tell(?:ing|s)?|told)\s+'
    r'(?:me\s+|us\s+|you\s+|people\s+)?(?:stuff\s+like\s+|things\s+like\s+|like\s+)?(?:"[^"\n]{8,300}"|“[^”\n]{8,300}”)',
    re2_options(),
)
_QUOTE_HINTS = (b">", b"uote", b"riginally", b"Q:", b"q:", b'"', "“".encode(), b" '", b"('", b"['")
_LIST_MARKER_BYTES = frozenset(b" \t\r\n-*\xe2\x80\xa2#")  # includes the bytes of the bullet •


class Sentence:
    """A sentence's byte range (a slotted class: built ~30 times per post, so cheap to make)."""

    __slots__ = ("start", "content_start", "end", "is_question")

    def __init__(self, start: int, content_start: int, end: int, is_question: bool) -> None:
        self.start = start  # byte offset
        self.content_start = content_start  # after leading spaces and list markers ("1. ", "- ")
        self.end = end
        self.is_question = is_question

    def __repr__(self) -> str:
        return f"Sentence({self.start}, {self.content_start}, {self.end}, question={self.is_question})"


# '!' and '?' end sentences like '.'; tabs and carriage returns are spaces. Same length, so
# offsets in the normalised copy are offsets in the original bytes.
_SENTENCE_NORMALISER = bytes.maketrans(b"!?\t\r", b".. \x20")


def split_sentences(data: bytes) -> list[Sentence]:
    """Split at . ! ? followed by a space or line end, and at every line break.

    Pure bytes operations (no regex): sentence splitting runs on every post and a match
    loop would cost more than the rest of the analysis.
    """
    normalised = data.translate(_SENTENCE_NORMALISER).replace(b". ", b".\n")
    sentences: list[Sentence] = []
    start = 0
    pending_start: int | None = None  # a list number ("7.") belongs to the sentence after it
    for line in normalised.split(b"\n"):
        end = start + len(line)
        stripped = line.strip()
        if stripped[:-1].isdigit() and stripped.endswith(b"."):
            pending_start = start if pending_start is None else pending_start
        elif stripped:
            sentence_start = start if pending_start is None else pending_start
            pending_start = None
            is_question = b"?" in data[max(start, end - 3):end]
            sentence = _make_sentence(data, sentence_start, end, is_question)
            if sentence.content_start < sentence.end:
                sentences.append(sentence)
        start = end + 1
    return sentences


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


def _marker_offsets(markers: tuple[bytes, ...], data: bytes, start: int, end: int) -> list[int]:
    """Sorted offsets of every occurrence of any marker within data[start:end]."""
    window = data[start:end].lower()
    found: list[int] = []
    for marker in markers:
        position = window.find(marker)
        while position >= 0:
            found.append(start + position)
            position = window.find(marker, position + 1)
    found.sort()
    return found


def clause_breaks(data: bytes, start: int, end: int) -> list[int]:
    """Offsets of clause breaks within data[start:end] (negation does not cross them)."""
    return _marker_offsets(_CLAUSE_MARKERS, data, start, end)


# Contrasts end what a clinic cue covers: "booked a peel at the salon but ordered a roller".
# "so I" hands the action to the author: "the salon wanted 180 so I ordered a dermapen".
_CONTRAST_MARKERS = (
    b" but ", b" however", b" although ", b" though ", b" whereas ", b" instead ", b";", b" so i ", b" so i'",
)


def contrast_breaks(data: bytes, start: int, end: int) -> list[int]:
    """Offsets of contrast breaks ("but", "however", ";") within data[start:end]."""
    return _marker_offsets(_CONTRAST_MARKERS, data, start, end)


def words_unhyphenated(data: bytes) -> bytes:
    """The text with a hyphen between two letters read as a space, same length (offsets hold):
    "the stamp-the-normal-skin-then-the-patch thing" names the practice as plainly as spaces."""
    position = data.find(b"-")
    if position < 0:
        return data
    buffer = bytearray(data)
    last = len(data) - 1
    while position >= 0:
        if 0 < position < last and _is_letter(data[position - 1]) and _is_letter(data[position + 1]):
            buffer[position] = 0x20
        position = data.find(b"-", position + 1)
    return bytes(buffer)


def _is_letter(byte: int) -> bool:
    return 97 <= byte <= 122 or 65 <= byte <= 90


def quote_ranges(data: bytes) -> list[tuple[int, int]]:
    if not any(hint in data for hint in _QUOTE_HINTS):
        return []
    return [match.span() for match in _QUOTE.finditer(data)]


# "until October", "till next week": a date a practice is put off to (not "until it heals" or
# "until 24 hours later", which keep a drug apart from a wound)
_DEFERRAL = re2.compile(
    r"\b(?:until|till|til)\s+(?:(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|summer|winter|spring|autumn|fall|next"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b)",
    re2_options(),
)


def deferred_to_date(data: bytes, start: int, end: int) -> int | None:
    """Where "until <a date>" starts in data[start:end], if it does."""
    match = _DEFERRAL.search(data, start, min(end, len(data)))
    return match.start() if match else None


def same_clause(breaks: list[int], first: int, second: int) -> bool:
    return bisect_right(breaks, first) == bisect_right(breaks, second)


def char_offsets(data: bytes, text: str, byte_offsets: Iterable[int]) -> dict[int, int]:
    """Map UTF-8 byte offsets of `data` (the encoding of `text`) to str indices.

    Identity for ASCII text; otherwise one incremental decode over the sorted offsets, so the
    cost is linear in the post. RE2 offsets always fall on character boundaries.
    """
    if len(data) == len(text):
        return {offset: offset for offset in byte_offsets}
    mapping: dict[int, int] = {}
    previous_byte = 0
    chars = 0
    for offset in sorted(set(byte_offsets)):
        chars += len(data[previous_byte:offset].decode("utf-8", "ignore"))
        mapping[offset] = chars
        previous_byte = offset
    return mapping
