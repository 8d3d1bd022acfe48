from django.conf import settings
from django.db import models

from forum_helper.core.fields import JSONField
from forum_helper.intake.models import Post
from forum_helper.screening.models import Finding


class QueueItem(models.Model):
    """One per post with a risky (or low/context) finding: what moderators work through.

    Priority (computed by services.priority_compute, stored so the queue sorts on an index):
        severity base (high 1000, medium 500, low 100)
        + 50 when the author is forum staff
        + recency of the post when the item was created (post younger than 1 day: 30,
          younger than 7 days: 15, older: 0; unknown post date counts as fresh)
        + 5 per category, at most 20.
    Severity always dominates; within a severity, staff advice and fresh posts come first.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "Claimed"
        ESCALATED = "escalated", "Escalated"
        RESOLVED = "resolved", "Resolved"

    class Lane(models.TextChoices):
        RISK = "risk", "Risky"
        LOW = "low", "Low / context"  # severity low and not risky: shown in its own tab

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="queue_item")
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="queue_items")
    lane = models.CharField(max_length=8, choices=Lane.choices, default=Lane.RISK)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.IntegerField(default=0)
    severity = models.CharField(max_length=8, choices=Finding.Severity.choices)
    is_staff_author = models.BooleanField(default=False)
    categories = JSONField(default=list, blank=True)  # a low/context item may have none
    # ",home_needling,uv_combination,": lets every database filter by one category.
    category_keys = models.CharField(max_length=500, blank=True, default="")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_queue_items"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic lock: bumped on every change; forms and API calls carry the version they saw.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_since_decision = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The queue list: one tab (lane + status), sorted by priority or by date.
            models.Index(fields=["lane", "status", "-priority", "-created_at", "-id"], name="queue_tab_priority"),
            models.Index(fields=["lane", "status", "-created_at", "-id"], name="queue_tab_created"),
            # The default "open" tab spans two statuses; partial indexes keep its sorted scan index-only-ordered.
            models.Index(fields=["-priority", "-created_at", "-id"], name="queue_open_priority",
                         condition=models.Q(lane="risk", status__in=["open", "claimed"])),
            models.Index(fields=["-created_at", "-id"], name="queue_open_created",
                         condition=models.Q(lane="risk", status__in=["open", "claimed"])),
            # The open tab filtered by severity (the filter moderators use most): still an ordered range scan.
            models.Index(fields=["severity", "-priority", "-created_at", "-id"], name="queue_open_sev_priority",
                         condition=models.Q(lane="risk", status__in=["open", "claimed"])),
            models.Index(fields=["severity", "-created_at", "-id"], name="queue_open_sev_created",
                         condition=models.Q(lane="risk", status__in=["open", "claimed"])),
            models.Index(fields=["claimed_by", "status"], name="queue_claimed_by"),
            models.Index(fields=["created_at"], name="queue_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.severity} {self.status} ({self.post})"


class Decision(models.Model):
    """A moderator's verdict on one finding; the rules app reads these for per-rule precision."""

    class Kind(models.TextChoices):
        CONFIRM = "confirm", "Confirm"
        DISMISS = "dismiss", "Dismiss (false positive)"
        ESCALATE = "escalate", "Escalate (needs clinical review)"

    class ActionTaken(models.TextChoices):
        REMOVED = "removed", "Removed"
        EDITED = "edited", "Edited"
        REPLIED = "replied", "Replied"
        NONE = "", "None"

    item = models.ForeignKey(QueueItem, on_delete=models.CASCADE, related_name="decisions")
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.TextField()
    action_taken = models.CharField(max_length=16, choices=ActionTaken.choices, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    undone = models.BooleanField(default=False)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The item's state before this decision, restored by undo.
    previous_status = models.CharField(max_length=16, choices=QueueItem.Status.choices)
    previous_claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "undone"], name="decision_item_undone")]

    def __str__(self) -> str:
        return f"{self.kind} on item #{self.item_id}"


class Note(models.Model):
    item = models.ForeignKey(QueueItem, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on item #{self.item_id}"
