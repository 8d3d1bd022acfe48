from django.db import models

from forum_helper.core.fields import JSONField

from forum_helper.intake.models import PostVersion


class Finding(models.Model):
    """The detector's result for one post version under one ruleset version (one screening)."""

    class Severity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"
        NONE = "none", "None"

    post_version = models.ForeignKey(PostVersion, on_delete=models.CASCADE, related_name="findings")
    ruleset_version = models.PositiveIntegerField()
    risky = models.BooleanField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    stance = models.CharField(max_length=16)
    categories = JSONField(default=list)
    modifiers = JSONField(default=list)
    evidence = JSONField(default=list)  # [{"start", "end", "text", "category", "rule"}]
    explanation = models.TextField(blank=True)
    rule_ids = JSONField(default=list)
    # rule id -> revision id of the rule that fired, as the rules app numbers them.
    rule_revisions = JSONField(default=dict)
    measures = JSONField(default=dict)
    # What shadow rules would have changed, recorded without queueing anything.
    shadow_rule_ids = JSONField(default=list)
    shadow_result = JSONField(null=True, blank=True)
    references = JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post_version", "ruleset_version"], name="one_screening_per_version_and_ruleset")
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.post_version} r{self.ruleset_version}: {self.severity}"
