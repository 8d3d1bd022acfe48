"""A word-level diff of two post texts as safe HTML: deleted words in <del>, inserted words in <ins>.

Both texts are hostile: every slice goes through visible_text.escape_revealing (escaped, and
invisible or direction-control characters shown as tokens, so an edit that only slips in a
zero-width space or a bidi override still shows up as a change).
"""
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.utils.safestring import SafeString, mark_safe

from forum_helper.moderation.visible_text import escape_revealing

# Words, runs of whitespace, and every other character on its own (punctuation, symbols,
# invisible characters), so "1mm" -> "1mm." marks only the full stop.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
# SequenceMatcher is quadratic in the worst case; past this many tokens (after the common start
# and end are set aside) the changed middle is shown as one deletion and one insertion.
MAX_DIFF_TOKENS = 4000


@dataclass(frozen=True)
class WordDiff:
    html: SafeString
    changed: bool


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(before: str, after: str) -> WordDiff:
    """The diff of `before` -> `after`; unchanged text is shown escaped, changes wrapped in del/ins."""
    old, new = _tokens(before), _tokens(after)
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    old_middle, new_middle = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]

    if len(old_middle) > MAX_DIFF_TOKENS or len(new_middle) > MAX_DIFF_TOKENS:
        opcodes = [("replace", 0, len(old_middle), 0, len(new_middle))]
    else:
        opcodes = SequenceMatcher(None, old_middle, new_middle, autojunk=False).get_opcodes()

    parts = [escape_revealing("".join(old[:prefix]))]
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            parts.append(escape_revealing("".join(old_middle[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f'<del class="diff-del">{escape_revealing("".join(old_middle[i1:i2]))}</del>')
        if j2 > j1:
            parts.append(f'<ins class="diff-ins">{escape_revealing("".join(new_middle[j1:j2]))}</ins>')
    parts.append(escape_revealing("".join(old[len(old) - suffix :])))
    # Every slice above is escaped; del/ins are our own tags.
    return WordDiff(html=mark_safe("".join(parts)), changed=bool(old_middle or new_middle))  # noqa: S308
