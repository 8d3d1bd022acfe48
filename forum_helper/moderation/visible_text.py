"""Hostile post text made safe *and visible*: escaped, with invisible and direction-control characters shown.

Zero-width characters hide words from a moderator (and from a skim), and bidi overrides such as
U+202E can make a post read backwards or reorder the page around it. `escape_revealing` escapes
the text and replaces every such character with a small marked token (``⟨RLO⟩``, titled with the
code point and its Unicode name), so the character is seen and no longer acts. It works on any
slice of the original text, so callers that cut the text at offsets (evidence highlights, diffs)
reveal each slice and the offsets keep pointing into the original text.
"""
import re
import unicodedata

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Short labels of the characters shown as tokens: bidi embeddings, overrides and isolates, the
# zero-width characters and marks, and the byte order mark / zero-width no-break space.
INVISIBLE_LABELS: dict[str, str] = {
    "\u200b": "ZWSP", "\u200c": "ZWNJ", "\u200d": "ZWJ", "\u200e": "LRM", "\u200f": "RLM",
    "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO",
    "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI",
    "\ufeff": "BOM",
    "\u061c": "ALM", "\u2060": "WJ",
}
_INVISIBLE = re.compile("[" + "".join(INVISIBLE_LABELS) + "]")
_TOKENS = {
    char: f'<span class="invisible-char" title="U+{ord(char):04X} {unicodedata.name(char)}">\u27e8{label}\u27e9</span>'
    for char, label in INVISIBLE_LABELS.items()
}


def has_invisible(text: str) -> bool:
    return _INVISIBLE.search(text) is not None


def invisible_stripped(text: str) -> str:
    """The text without those characters: for text we write ourselves (a draft reply), not for evidence."""
    return _INVISIBLE.sub("", text)


def reveal(html: str) -> str:
    """Each invisible or direction-control character of (already escaped) html replaced by its token."""
    if not _INVISIBLE.search(html):
        return html
    return _INVISIBLE.sub(lambda match: _TOKENS[match.group()], html)


def escape_revealing(text: str) -> SafeString:
    """escape(text), each invisible or direction-control character replaced by a visible token."""
    # escape() leaves these characters alone, and the tokens are our own fixed markup.
    return mark_safe(reveal(escape(text)))  # noqa: S308
