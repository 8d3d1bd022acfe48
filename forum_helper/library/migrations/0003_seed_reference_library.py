"""Load the seed reference articles (fixtures/library/manifest.json) and their default pins.

Uses the pure parser and historical models (not the services), so it keeps working as the
models and services evolve. Re-running is harmless: documents are matched by URL.
"""
import json
from pathlib import Path

from django.db import migrations

from forum_helper.library.parsing import parse_article
from forum_helper.library.search import index_passages, unindex_passages

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "library"
PIN_NOTE = "Default pin from the seed library."


def load_seeds(apps, schema_editor) -> None:
    Document = apps.get_model("library", "Document")
    Passage = apps.get_model("library", "Passage")
    Pin = apps.get_model("library", "Pin")
    db = schema_editor.connection.alias
    manifest = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))

    documents = {}
    for entry in manifest["documents"]:
        text = (FIXTURES / entry["file"]).read_text(encoding="utf-8")
        parsed = parse_article(text)
        document, created = Document.objects.using(db).get_or_create(
            source_url=entry["url"],
            defaults={
                "title": entry["title"],
                "publisher": entry.get("publisher", ""),
                "citations": [c.to_dict() for c in parsed.citations],
                "body": text,
            },
        )
        documents[entry["file"]] = document
        if not created:
            continue
        passages = Passage.objects.using(db).bulk_create(
            [Passage(document=document, position=i, heading=p.heading, text=p.text) for i, p in enumerate(parsed.passages)]
        )
        if schema_editor.connection.vendor == "sqlite" and any(p.pk is None for p in passages):
            passages = list(Passage.objects.using(db).filter(document=document))
        index_passages([(p.pk, p.heading, p.text) for p in passages], connection=schema_editor.connection)

    for pin in manifest["pins"]:
        document = documents[pin["file"]]
        passage = Passage.objects.using(db).filter(document=document, text__contains=pin["contains"]).order_by("position").first()
        if passage is None:
            raise RuntimeError(f"seed pin: no passage of {pin['file']} contains {pin['contains']!r}")
        for category in pin["categories"]:
            Pin.objects.using(db).get_or_create(passage=passage, category=category, rule_id="", defaults={"note": PIN_NOTE})


def unload_seeds(apps, schema_editor) -> None:
    Document = apps.get_model("library", "Document")
    Passage = apps.get_model("library", "Passage")
    db = schema_editor.connection.alias
    manifest = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
    urls = [e["url"] for e in manifest["documents"]]
    ids = list(Passage.objects.using(db).filter(document__source_url__in=urls).values_list("pk", flat=True))
    unindex_passages(ids, connection=schema_editor.connection)
    Document.objects.using(db).filter(source_url__in=urls).delete()


class Migration(migrations.Migration):
    dependencies = [("library", "0002_passage_fts")]

    operations = [migrations.RunPython(load_seeds, unload_seeds)]
