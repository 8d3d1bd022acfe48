"""Detector rules as versioned data: every change is an immutable revision and a new ruleset version."""
from django.conf import settings
from django.db import models


class RuleMode(models.TextChoices):
    ACTIVE = "active", "Active"
    SHADOW = "shadow", "Shadow (recorded, never queued)"
    DISABLED = "disabled", "Disabled"


class RulesetVersion(models.Model):
    """One state of the whole ruleset; findings record the number they were screened under."""

    number = models.PositiveIntegerField(unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"ruleset v{self.number}"


class Rule(models.Model):
    """The current state of one rule; its history lives in RuleRevision."""

    rule_id = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40)
    category = models.CharField(max_length=60, null=True, blank=True)
    mode = models.CharField(max_length=8, choices=RuleMode.choices, default=RuleMode.ACTIVE)
    description = models.TextField(blank=True)
    data = models.JSONField(default=dict)
    # Rules are compiled in this order (the fixture's order; new rules go last).
    position = models.PositiveIntegerField(default=0)
    current_revision = models.ForeignKey(
        "RuleRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.rule_id

    def as_record(self) -> dict:
        """The rule as the detector's compile_ruleset reads it."""
        return {
            "id": self.rule_id,
            "kind": self.kind,
            "category": self.category,
            "mode": self.mode,
            "description": self.description,
            "data": self.data,
        }


class RuleRevision(models.Model):
    """An immutable snapshot of a rule after one change."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    ruleset_version = models.ForeignKey(RulesetVersion, on_delete=models.PROTECT, related_name="revisions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="rule_revision_number_unique")]
        ordering = ["rule_id", "-number"]

    def __str__(self) -> str:
        return f"{self.rule.rule_id} rev {self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Rule revisions are immutable; record a new revision instead.")
        super().save(*args, **kwargs)


class Backtest(models.Model):
    """A proposed rule change replayed over stored posts, run by a Celery task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict)
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"backtest #{self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0
