"""Writes to the reference library. Every change keeps the SQLite FTS index in step and,
for people's actions, writes an audit row in the same transaction."""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.services import audit_record
from forum_helper.library.models import Document, Passage, Pin
from forum_helper.library.parsing import parse_article
from forum_helper.library.search import index_passages, unindex_passages

if TYPE_CHECKING:  # the analysis package is a separate, Django-free package
    from forum_helper.analysis import Analysis

_SLUG_RE = re.compile(r"^[a-z][a-z0-9_.:-]*$")


def _pin_state(pin: Pin) -> dict[str, Any]:
    return {"passage_id": pin.passage_id, "category": pin.category, "rule_id": pin.rule_id, "note": pin.note}


def document_import(
    *,
    title: str,
    url: str,
    path: str | Path | None = None,
    text: str | None = None,
    publisher: str = "",
    actor: AbstractBaseUser | None = None,
) -> Document:
    """Import an article from ``path`` or ``text``; idempotent by ``url``.

    Re-importing a URL updates the document and replaces its passages. A passage whose text
    is unchanged keeps its row (so its id, its ``#passage-<id>`` anchor in stored findings and
    its pins survive); passages whose text is gone are deleted with their pins.
    """
    if (path is None) == (text is None):
        raise ApplicationError("Give exactly one of path or text.")
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ApplicationError(f"Cannot read {path}: {error}") from error
    assert text is not None
    parsed = parse_article(text)
    if not parsed.passages:
        raise ApplicationError("The article has no passages after removing boilerplate.", extra={"url": url})

    with transaction.atomic():
        # Lock: two imports of the same URL must not interleave their passage rewrites.
        document = Document.objects.select_for_update().filter(source_url=url).first()
        before = None
        if document is None:
            document = Document(source_url=url)
        else:
            before = {"title": document.title, "publisher": document.publisher, "passages": document.passages.count()}
        document.title = title.strip() or parsed.title
        document.publisher = publisher
        document.citations = [c.to_dict() for c in parsed.citations]
        document.body = text
        try:
            document.full_clean()
        except ValidationError as error:
            raise ApplicationError("Invalid document.", extra={"fields": error.message_dict}) from error
        document.save()

        existing: dict[str, list[Passage]] = {}
        for passage in document.passages.order_by("position"):
            existing.setdefault(passage.text, []).append(passage)
        changed: list[Passage] = []
        kept = created = 0
        for position, parsed_passage in enumerate(parsed.passages):
            matches = existing.get(parsed_passage.text)
            if matches:
                passage = matches.pop(0)
                kept += 1
                if passage.position != position or passage.heading != parsed_passage.heading:
                    passage.position = position
                    passage.heading = parsed_passage.heading
                    passage.save(update_fields=["position", "heading"])
                    changed.append(passage)
            else:
                passage = Passage.objects.create(
                    document=document, position=position, heading=parsed_passage.heading, text=parsed_passage.text
                )
                created += 1
                changed.append(passage)
        stale = [p.pk for group in existing.values() for p in group]
        if stale:
            Passage.objects.filter(pk__in=stale).delete()  # their pins go with them
            unindex_passages(stale)
        index_passages([(p.pk, p.heading, p.text) for p in changed])
        audit_record(
            actor=actor,
            action="library.document_import",
            target=document,
            before=before,
            after={
                "title": document.title,
                "url": url,
                "passages": len(parsed.passages),
                "kept": kept,
                "created": created,
                "deleted": len(stale),
                "dois": document.dois,
            },
        )
    return document


def document_delete(*, document: Document, actor: AbstractBaseUser | None) -> None:
    with transaction.atomic():
        passage_ids = list(document.passages.values_list("pk", flat=True))
        audit_record(
            actor=actor,
            action="library.document_delete",
            target=document,
            before={"title": document.title, "url": document.source_url, "passages": len(passage_ids)},
        )
        document.delete()
        unindex_passages(passage_ids)


def passage_update(*, passage: Passage, heading: str, text: str, actor: AbstractBaseUser | None) -> Passage:
    """Edit a passage by hand (admin); the next re-import of its document may replace it."""
    if not text.strip():
        raise ApplicationError("A passage needs text.")
    if heading == passage.heading and text == passage.text:
        return passage
    with transaction.atomic():
        before = {"heading": passage.heading, "text": passage.text}
        passage.heading = heading
        passage.text = text
        passage.full_clean()
        passage.save(update_fields=["heading", "text"])
        # Moves the library stamp, so cached finding links pick up the new text.
        Document.objects.filter(pk=passage.document_id).update(updated_at=timezone.now())
        index_passages([(passage.pk, passage.heading, passage.text)])
        audit_record(actor=actor, action="library.passage_update", target=passage, before=before, after={"heading": heading, "text": text})
    return passage


def passage_delete(*, passage: Passage, actor: AbstractBaseUser | None) -> None:
    with transaction.atomic():
        pk = passage.pk
        audit_record(
            actor=actor,
            action="library.passage_delete",
            target=passage,
            before={"document_id": passage.document_id, "heading": passage.heading, "text": passage.text},
        )
        passage.delete()
        unindex_passages([pk])


def passage_index_rebuild() -> int:
    """Rebuild the SQLite FTS index from the passages table (no-op on PostgreSQL)."""
    from forum_helper.library.search import rebuild_index

    rows = list(Passage.objects.values_list("pk", "heading", "text"))
    with transaction.atomic():
        rebuild_index(rows)
    return len(rows)


def pin_create(
    *,
    passage: Passage,
    actor: AbstractBaseUser | None,
    category: str = "",
    rule_id: str = "",
    note: str = "",
) -> Pin:
    """Pin a passage to a category and/or a rule so findings show it first."""
    category, rule_id = category.strip(), rule_id.strip()
    if not category and not rule_id:
        raise ApplicationError("Pin to a category, a rule, or both.")
    for name, value in (("category", category), ("rule_id", rule_id)):
        if value and not _SLUG_RE.match(value):
            raise ApplicationError(f"Invalid {name}: use lowercase letters, digits and _ . : -", extra={"field": name})
    pin = Pin(passage=passage, category=category, rule_id=rule_id, note=note, created_by=actor)
    try:
        with transaction.atomic():
            pin.save()
            audit_record(actor=actor, action="library.pin_create", target=pin, after=_pin_state(pin))
    except IntegrityError as error:
        raise ApplicationError(
            "This passage is already pinned to that category and rule.",
            status=409,
            extra={"passage_id": passage.pk, "category": category, "rule_id": rule_id},
        ) from error
    return pin


def pin_delete(*, pin: Pin, actor: AbstractBaseUser | None) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="library.pin_delete", target=pin, before=_pin_state(pin))
        pin.delete()


def references_for_analysis(*, analysis: Analysis) -> list[dict]:
    """Reference passages explaining each category (and modifier) of an analysis, JSON-ready."""
    return references_for_analyses(analyses=[analysis])[0]


def references_for_analyses(*, analyses: Sequence[Analysis]) -> list[list[dict]]:
    """references_for_analysis of each analysis, reading the library stamp once for all of them.

    Thin adapter from the analysis contract to ``selectors.passages_for_finding``.
    """
    from forum_helper.library.selectors import library_stamp, passages_for_finding

    def as_str(value: Any) -> str:
        return str(getattr(value, "value", value))

    stamp = None
    references: list[list[dict]] = []
    for analysis in analyses:
        topics = [as_str(c) for c in analysis.categories] + [as_str(m) for m in getattr(analysis, "modifiers", ())]
        if not topics:
            references.append([])
            continue
        evidence_by_topic: dict[str, list[str]] = {}
        rules_by_topic: dict[str, list[str]] = {}
        for item in getattr(analysis, "evidence", ()):
            topic = as_str(item.category)
            evidence_by_topic.setdefault(topic, []).append(item.text)
            if getattr(item, "rule", None):
                rules_by_topic.setdefault(topic, []).append(as_str(item.rule))
        if stamp is None:
            stamp = library_stamp()  # only when some analysis has a topic, as passages_for_finding does
        refs = passages_for_finding(
            categories=topics,
            evidence_texts=evidence_by_topic,
            rule_ids=rules_by_topic or [as_str(r) for r in getattr(analysis, "rule_ids", ())],
            stamp=stamp,
        )
        references.append([ref.to_dict() for topic in topics for ref in refs.get(topic, [])])
    return references
