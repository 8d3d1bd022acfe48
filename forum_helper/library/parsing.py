"""Pure text handling for the reference library: no Django imports (migrations call it too).

One entry point for articles, ``parse_article(text) -> ParsedArticle``: split a plain-text
article into passages (groups of paragraphs under their heading), drop page boilerplate and
vendor advertising, and keep the reference list and DOIs as citations. Plus the helpers the
linker needs: ``search_terms`` (what to look for, per category) and ``make_excerpt``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# A passage holds the paragraphs of one heading, split when it grows past this size, so a
# linked passage stays readable next to a finding.
MAX_PASSAGE_CHARS = 700
MAX_HEADING_WORDS = 12
MAX_HEADING_CHARS = 90
EXCERPT_CHARS = 300

DOI_RE = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
_SMALL_WORDS = {
    "a", "an", "the", "of", "and", "or", "for", "to", "in", "on", "with", "vs", "by", "at",
    "from", "your", "is", "are", "as", "into", "than", "its",
}
_LIST_ITEM_RE = re.compile(r"^(?:[-*•]\s|\d+[.)]\s)")
_TABLE_SEPARATOR_RE = re.compile(r"^\|?\s*:?-{2,}")

# Headings that start the page furniture around an article (vendor sections, product
# listings, "People Also Ask", comment forms). Everything up to the next article heading or
# "References" heading is dropped.
_BOILERPLATE_HEADINGS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^elevate your\b",
        r"^related (products|posts|articles)\b",
        r"^people also ask\b",
        r"^leave a (comment|reply)\b",
        r"^(you may also like|recommended products|our products|shop now|share this)\b",
        r"^(subscribe|sign up)\b",
    )
]
# Lines dropped wherever they appear: calls to action and form furniture.
_BOILERPLATE_LINES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bcontact (us|our [\w ]{1,30}) today\b",
        r"^ready to (upgrade|transform|elevate|grow)\b",
        r"^by partnering with\b",
        r"\byour email address will not be published\b",
        r"\brequired fields are marked\b",
        r"\b(buy|order|shop) now\b",
        r"\brequest a (quote|demo)\b",
    )
]
_REFERENCES_HEADING_RE = re.compile(r"^(references|sources|bibliography|citations|further reading)\s*:?$", re.IGNORECASE)
_SOURCE_NOTE_RE = re.compile(r"\b(is|was) (also )?based on (technical )?information from\b", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedPassage:
    heading: str
    text: str


@dataclass(frozen=True)
class Citation:
    text: str
    doi: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"text": self.text, "doi": self.doi}


@dataclass(frozen=True)
class ParsedArticle:
    title: str
    passages: tuple[ParsedPassage, ...]
    citations: tuple[Citation, ...]
    dropped_lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def dois(self) -> tuple[str, ...]:
        return tuple(c.doi for c in self.citations if c.doi)


def extract_dois(text: str) -> list[str]:
    """DOIs in the order they appear, trailing punctuation removed, without duplicates."""
    found: list[str] = []
    for match in DOI_RE.finditer(text):
        doi = match.group(0).rstrip(".,;:)]}'\"")
        if doi not in found:
            found.append(doi)
    return found


def _clean(line: str) -> str:
    return re.sub(r"\s+", " ", line.replace("\u00a0", " ")).strip()


def _is_boilerplate_heading(line: str) -> bool:
    return any(p.search(line) for p in _BOILERPLATE_HEADINGS)


def _is_boilerplate_line(line: str) -> bool:
    return any(p.search(line) for p in _BOILERPLATE_LINES)


def is_heading(line: str, *, first: bool = False) -> bool:
    """Short title-case line without final sentence punctuation (or ending in ':' / '?')."""
    s = line.strip()
    if not s or len(s) > MAX_HEADING_CHARS or _LIST_ITEM_RE.match(s) or s.startswith("|"):
        return False
    if s[-1] in ".!;,*":
        return False
    words = s.rstrip(":?").split()
    if not words or len(words) > MAX_HEADING_WORDS:
        return False
    if first or s.endswith(":"):
        return True
    significant = [w.strip("\"'“”‘’()") for w in words]
    significant = [w for w in significant if w and w.lower() not in _SMALL_WORDS]
    if not significant:
        return False
    capitalised = sum(1 for w in significant if w[0].isupper() or w[0].isdigit())
    return capitalised / len(significant) >= 0.6


def _table_row(line: str) -> str | None:
    """A markdown table row as 'a | b | c'; None for separator rows."""
    if _TABLE_SEPARATOR_RE.match(line):
        return None
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return " | ".join(c for c in cells if c)


def _paragraphs(lines: list[str]) -> list[tuple[str, str]]:
    """Classify lines into ('heading'|'para'|'table', text) blocks.

    Works for one-paragraph-per-line text and for hard-wrapped paragraphs separated by blank
    lines: a line continues the open paragraph unless the paragraph ended a sentence.
    """
    blocks: list[tuple[str, str]] = []
    open_para: list[str] = []
    table: list[str] = []

    def close_para() -> None:
        if open_para:
            blocks.append(("para", " ".join(open_para)))
            open_para.clear()

    def close_table() -> None:
        if table:
            blocks.append(("table", "\n".join(table)))
            table.clear()

    first = True
    for raw in lines:
        line = _clean(raw)
        if not line:
            close_para()
            close_table()
            continue
        if line.startswith("|"):
            close_para()
            row = _table_row(line)
            if row:
                table.append(row)
            first = False
            continue
        close_table()
        if not open_para and is_heading(line, first=first):
            blocks.append(("heading", line.rstrip(":").strip()))
        elif _LIST_ITEM_RE.match(line):
            close_para()
            blocks.append(("para", line))
        else:
            open_para.append(line)
            if line[-1] in ".!?:\"”)*":
                close_para()
        first = False
    close_para()
    close_table()
    return blocks


def parse_article(text: str, *, max_passage_chars: int = MAX_PASSAGE_CHARS) -> ParsedArticle:
    """Split an article into passages and citations, leaving advertising out."""
    blocks = _paragraphs(text.splitlines())
    title = blocks[0][1] if blocks and blocks[0][0] == "heading" else ""

    mode = "article"  # or "skip" (vendor furniture, up to a references heading) or "references"
    heading = ""
    grouped: list[tuple[str, list[str], bool]] = []  # (heading, paragraphs, is_table)
    citations: list[Citation] = []
    dropped: list[str] = []

    for kind, content in blocks:
        if kind == "heading":
            if _REFERENCES_HEADING_RE.match(content):
                mode = "references"
            elif _is_boilerplate_heading(content) or mode == "skip":
                mode = "skip"
                dropped.append(content)
            else:
                mode = "article"
                heading = content
            continue
        if mode == "references":
            line = re.sub(r"^[-*•]\s*", "", content)
            if _is_boilerplate_line(line):
                dropped.append(content)
                continue
            dois = extract_dois(line)
            citations.append(Citation(text=line, doi=dois[0] if dois else None))
            continue
        if mode == "skip" or _is_boilerplate_line(content):
            dropped.append(content)
            continue
        if _SOURCE_NOTE_RE.search(content):
            citations.append(Citation(text=content, doi=None))
            continue
        is_table = kind == "table"
        last = grouped[-1] if grouped else None
        if (
            last is not None
            and last[0] == heading
            and not is_table
            and not last[2]
            and sum(len(p) for p in last[1]) + len(content) <= max_passage_chars
        ):
            last[1].append(content)
        else:
            grouped.append((heading, [content], is_table))

    # A DOI mentioned in the article body but not in the reference list is still a citation.
    known = {c.doi for c in citations if c.doi}
    for _, paras, _ in grouped:
        for doi in extract_dois(" ".join(paras)):
            if doi not in known:
                citations.append(Citation(text=doi, doi=doi))
                known.add(doi)

    passages = tuple(ParsedPassage(heading=h, text="\n".join(paras)) for h, paras, _ in grouped)
    return ParsedArticle(title=title, passages=passages, citations=tuple(citations), dropped_lines=tuple(dropped))


# --- linking helpers -------------------------------------------------------------------

# Words a moderator's reference should be about, per detector category or modifier. Phrases
# are searched as phrases. Kept here (pure) so the same terms drive both search backends.
TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "home_needling": ("microneedling", "needles", "micro-injuries", "needling", "dermaroller", "professional"),
    "cell_transfer": ("melanocytes", "migrate", "pigment cells", "donor", "graft"),
    "uv_combination": ("ultraviolet", "UV", "phototherapy", "sunlight", "sun exposure", "sun avoidance"),
    "drug_into_wounds": ("topical medications", "absorption", "transdermal", "drug delivery", "corticosteroids", "penetrate"),
    "isotretinoin_window": ("isotretinoin", "wound-healing", "healing", "scarring"),
    "wound_care_risk": ("infection", "micro-wounds", "barrier", "aftercare", "clean"),
    "diy_ablation": ("ablative", "ablation", "vaporize", "scarring", "thermal damage"),
    "koebner_risk": ("Koebner", "vitiligo", "psoriasis", "trauma", "new lesions"),
    "darker_skin": ("darker skin", "hyperpigmentation", "melanin", "pigmentation"),
}

_STOPWORDS = _SMALL_WORDS | {
    "i", "im", "my", "me", "we", "you", "it", "this", "that", "then", "after", "before", "will", "would",
    "can", "could", "should", "just", "do", "did", "does", "be", "been", "was", "were", "have", "has",
    "had", "not", "no", "so", "but", "if", "all", "any", "some", "right", "every", "each", "use",
    "using", "used", "get", "got", "also", "about", "what", "how", "when", "which", "who", "there",
}
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]+")
MAX_SEARCH_TERMS = 24


def search_terms(topic: str, evidence_texts: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Terms to search for one category: its keywords, then content words from the evidence."""
    terms: list[str] = []
    seen: set[str] = set()
    for term in (*TOPIC_KEYWORDS.get(topic, ()), *(w for t in evidence_texts for w in _WORD_RE.findall(t))):
        key = term.lower()
        if key in seen or key in _STOPWORDS or len(key) < 2 or (len(key) < 3 and term not in TOPIC_KEYWORDS.get(topic, ())):
            continue
        seen.add(key)
        terms.append(term)
    return terms[:MAX_SEARCH_TERMS]


_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")


def _term_hits(sentence: str, terms: list[str] | tuple[str, ...]) -> int:
    lowered = sentence.lower()
    hits = 0
    for term in terms:
        word = term.lower()
        stem = word if " " in word or len(word) <= 5 else word[: max(5, len(word) - 3)]
        if re.search(r"(?<![a-z0-9])" + re.escape(stem), lowered):
            hits += 1
    return hits


def make_excerpt(text: str, terms: list[str] | tuple[str, ...] = (), limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of ``text``, centred on the sentence that best matches ``terms``."""
    text = text.strip()
    if len(text) <= limit:
        return text
    sentences = [s.strip() for s in _SENTENCE_RE.split(text) if s.strip()]
    scores = [_term_hits(s, terms) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    if len(sentences[best]) + 1 > limit:
        cut = sentences[best][: limit - 1].rsplit(" ", 1)[0]
        return cut.rstrip(",;: ") + "…"
    start = end = best
    size = len(sentences[best])
    while True:
        grown = False
        if end + 1 < len(sentences) and size + 1 + len(sentences[end + 1]) + 2 <= limit:
            end += 1
            size += 1 + len(sentences[end])
            grown = True
        if start > 0 and size + 1 + len(sentences[start - 1]) + 2 <= limit:
            start -= 1
            size += 1 + len(sentences[start])
            grown = True
        if not grown:
            break
    excerpt = " ".join(sentences[start : end + 1])
    if start > 0:
        excerpt = "…" + excerpt
    if end < len(sentences) - 1:
        excerpt = excerpt + "…"
    return excerpt
