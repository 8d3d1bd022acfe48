from django.conf import settings
from django.db import models
from django.db.models import Q


class Document(models.Model):
    """A reference article; its passages are what findings link to."""

    title = models.CharField(max_length=255)
    # Re-importing the same URL updates this document (the import is idempotent by URL).
    source_url = models.URLField(max_length=500, unique=True)
    publisher = models.CharField(max_length=200, blank=True)
    citations = models.JSONField(default=list, blank=True)  # [{"text": str, "doi": str | None}]
    body = models.TextField(blank=True)  # the text as imported, advertising included
    date_added = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def dois(self) -> list[str]:
        return [c["doi"] for c in self.citations if isinstance(c, dict) and c.get("doi")]


class Passage(models.Model):
    """A paragraph group under one heading. Full-text search: see forum_helper.library.search."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()

    class Meta:
        ordering = ["document_id", "position"]
        indexes = [models.Index(fields=["document", "position"])]

    def __str__(self) -> str:
        return f"{self.document} §{self.position} {self.heading}".strip()

    @property
    def anchor(self) -> str:
        return f"passage-{self.pk}"


class Pin(models.Model):
    """An admin's choice: show this passage first for findings of a category and/or rule."""

    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="pins")
    category = models.CharField(max_length=64, blank=True, db_index=True)
    rule_id = models.CharField(max_length=128, blank=True, db_index=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(category="", rule_id=""), name="library_pin_has_category_or_rule"),
            models.UniqueConstraint(fields=["passage", "category", "rule_id"], name="library_one_pin_per_target"),
        ]

    def __str__(self) -> str:
        target = " / ".join(x for x in (self.category, self.rule_id) if x)
        return f"{target} → {self.passage}"
