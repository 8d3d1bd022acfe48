"""Reads from the reference library, including linking findings to passages."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse

from forum_helper.library.models import Document, Passage, Pin
from forum_helper.library.parsing import EXCERPT_CHARS, TOPIC_KEYWORDS, make_excerpt, search_terms
from forum_helper.library.search import search_passage_ids

MAX_PASSAGES_PER_CATEGORY = 3
# Linking is deterministic for a given library state, so each worker keeps recent results,
# keyed by a stamp of the library that every change moves and by the search terms (evidence
# reduced to keywords, so differently worded posts share entries). The pins and the passages
# already linked are kept per stamp too: a new key costs one full-text search.
_LINKS_CACHE_SIZE = 4096
_links_cache: dict[tuple, tuple["PassageRef", ...]] = {}


@dataclass
class _LibraryState:
    stamp: tuple
    pins: list[tuple[str, str, int]]  # (category, rule_id, passage_id), oldest first
    passages: dict[int, Passage]


_library_state: _LibraryState | None = None


def _library_state_for(stamp: tuple) -> _LibraryState:
    global _library_state
    if _library_state is None or _library_state.stamp != stamp:
        pins = list(Pin.objects.order_by("created_at", "pk").values_list("category", "rule_id", "passage_id"))
        _library_state = _LibraryState(stamp=stamp, pins=pins, passages={})
    return _library_state


@dataclass(frozen=True)
class PassageRef:
    """One reference passage linked to one category of a finding."""

    category: str
    passage_id: int
    document_id: int
    document_title: str
    heading: str
    excerpt: str
    url: str  # the article's source
    library_url: str  # the passage on the library page: /library/documents/<id>/#passage-<id>
    dois: tuple[str, ...]
    pinned: bool

    def to_dict(self) -> dict:
        # By hand: dataclasses.asdict deep-copies field by field, about 1 ms of every screened post.
        return {
            "category": self.category, "passage_id": self.passage_id, "document_id": self.document_id,
            "document_title": self.document_title, "heading": self.heading, "excerpt": self.excerpt, "url": self.url,
            "library_url": self.library_url, "dois": list(self.dois), "pinned": self.pinned,
        }


def document_list() -> QuerySet[Document]:
    return Document.objects.annotate(
        passage_count=Count("passages", distinct=True), pin_count=Count("passages__pins", distinct=True)
    ).order_by("title", "pk")


def document_get(*, document_id: int) -> Document | None:
    return (
        Document.objects.prefetch_related(
            Prefetch("passages", queryset=Passage.objects.order_by("position").prefetch_related("pins"))
        )
        .filter(pk=document_id)
        .first()
    )


def pin_list(*, category: str = "", rule_id: str = "") -> QuerySet[Pin]:
    pins = Pin.objects.select_related("passage__document", "created_by").order_by("category", "rule_id", "created_at", "pk")
    if category:
        pins = pins.filter(category=category)
    if rule_id:
        pins = pins.filter(rule_id=rule_id)
    return pins


def known_topics() -> list[str]:
    """Category and modifier ids the library has search keywords for (for pin forms)."""
    return list(TOPIC_KEYWORDS)


def _per_topic(value: Mapping[str, Sequence[str]] | Sequence[str], topic: str) -> list[str]:
    if isinstance(value, Mapping):
        return list(value.get(topic, ()))
    return list(value)


def _pinned_passage_ids(pins: list[tuple[str, str, int]], topic: str, rules: list[str]) -> list[int]:
    """Pins to the category alone, to one of its rules, or to both, oldest first, each passage once."""
    ids: list[int] = []
    for category, rule_id, passage_id in pins:
        applies = (category == topic and not rule_id) or (rule_id in rules and category in ("", topic))
        if applies and passage_id not in ids:
            ids.append(passage_id)
    return ids


def library_stamp() -> tuple:
    """Changes whenever a document, passage or pin is added, removed or edited (one query).

    Documents' updated_at moves on every document save, and passage edits touch their
    document (library.services.passage_update); additions and deletions move counts, max ids
    or the newest pin's time.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM library_document), (SELECT max(updated_at) FROM library_document), "
            "(SELECT count(*) FROM library_passage), (SELECT max(id) FROM library_passage), "
            "(SELECT count(*) FROM library_pin), (SELECT max(id) FROM library_pin), (SELECT max(created_at) FROM library_pin)"
        )
        return tuple(cursor.fetchone())


def passages_for_finding(
    *,
    categories: Sequence[str],
    evidence_texts: Mapping[str, Sequence[str]] | Sequence[str] = (),
    rule_ids: Mapping[str, Sequence[str]] | Sequence[str] = (),
    limit: int = MAX_PASSAGES_PER_CATEGORY,
    stamp: tuple | None = None,
) -> dict[str, list[PassageRef]]:
    """Up to ``limit`` passages per category: pinned ones first, then the best full-text matches.

    ``evidence_texts`` and ``rule_ids`` are either per category (a mapping) or shared by all
    categories (a sequence). A pin to a category applies to that category; a pin to a rule
    applies to the categories that rule produced; a pin to both needs both. ``stamp``: a
    library_stamp() the caller read for many findings at once (read here when not given).
    """
    result: dict[str, list[PassageRef]] = {}
    if stamp is None and categories:
        stamp = library_stamp()
    for topic in dict.fromkeys(categories):  # unique, order kept
        texts = _per_topic(evidence_texts, topic)
        rules = _per_topic(rule_ids, topic)
        terms = search_terms(topic, texts) if (topic in TOPIC_KEYWORDS or texts) else []
        key = (stamp, topic, tuple(terms), tuple(rules), limit)
        refs = _links_cache.get(key)
        if refs is None:
            refs = _topic_passages(_library_state_for(stamp), topic, terms, rules, limit)
            if len(_links_cache) >= _LINKS_CACHE_SIZE:
                _links_cache.clear()  # a new library stamp strands old keys; start over
            _links_cache[key] = refs
        if refs:
            result[topic] = list(refs)
    return result


def _topic_passages(
    state: _LibraryState, topic: str, terms: list[str], rules: list[str], limit: int
) -> tuple[PassageRef, ...]:
    pinned = _pinned_passage_ids(state.pins, topic, rules)[:limit]
    found = search_passage_ids(terms, limit=limit - len(pinned), exclude_ids=pinned) if terms else []
    ids = pinned + found
    if not ids:
        return ()
    missing = [pk for pk in ids if pk not in state.passages]
    if missing:
        state.passages.update(Passage.objects.select_related("document").in_bulk(missing))
    passages = state.passages
    refs = []
    for pk in ids:
        passage = passages.get(pk)
        if passage is None:
            continue
        document = passage.document
        refs.append(
            PassageRef(
                category=topic,
                passage_id=passage.pk,
                document_id=document.pk,
                document_title=document.title,
                heading=passage.heading,
                excerpt=make_excerpt(passage.text, terms or search_terms(topic), EXCERPT_CHARS),
                url=document.source_url,
                library_url=reverse("library:document_detail", args=[document.pk]) + f"#passage-{passage.pk}",
                dois=tuple(document.dois),
                pinned=pk in pinned,
            )
        )
    return tuple(refs)
