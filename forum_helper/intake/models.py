from django.db import models


class AuthorRole(models.TextChoices):
    MEMBER = "member", "Member"
    STAFF = "staff", "Staff"


class ForumSource(models.Model):
    """A forum that sends us posts (by webhook) or whose threads we import."""

    class Kind(models.TextChoices):
        DISCOURSE = "discourse", "Discourse webhook"
        STANDARD = "standard", "Standard Webhooks"
        IMPORT = "import", "Import only"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    instance_url = models.URLField(blank=True)
    # Several secrets allow key rotation; never rendered back in full (see masked_secrets).
    secrets = models.JSONField(default=list, blank=True)
    # Where decisions are sent (Standard Webhooks, signed with outgoing_secret).
    outgoing_webhook_url = models.URLField(blank=True)
    outgoing_secret = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug

    def masked_secrets(self) -> list[str]:
        return [mask_secret(secret) for secret in self.secrets]


def mask_secret(secret: str) -> str:
    return f"{secret[:4]}…{len(secret)} chars" if len(secret) > 8 else "…"


class Thread(models.Model):
    source = models.ForeignKey(ForumSource, on_delete=models.CASCADE, related_name="threads")
    external_id = models.CharField(max_length=128)
    title = models.CharField(max_length=500, blank=True)
    url = models.URLField(blank=True, max_length=1000)
    created_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="thread_unique_per_source")]

    def __str__(self) -> str:
        return self.title or f"thread {self.external_id}"


class Post(models.Model):
    source = models.ForeignKey(ForumSource, on_delete=models.CASCADE, related_name="posts")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    external_id = models.CharField(max_length=128)
    author_name = models.CharField(max_length=200, blank=True)
    author_external_id = models.CharField(max_length=128, blank=True)
    author_role = models.CharField(max_length=8, choices=AuthorRole.choices, default=AuthorRole.MEMBER)
    author_title = models.CharField(max_length=200, blank=True)
    trust_level = models.PositiveSmallIntegerField(null=True, blank=True)
    # 1 is the thread opener (Discourse post_number; SMF "Reply #n" is position n + 1).
    position = models.PositiveIntegerField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    reply_to_position = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    current_version = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="post_unique_per_source")]
        indexes = [models.Index(fields=["thread", "position"])]

    def __str__(self) -> str:
        return f"{self.source.slug}:{self.external_id} by {self.author_name}"

    @property
    def latest_version(self) -> "PostVersion | None":
        return self.versions.filter(version=self.current_version).first()


class PostVersion(models.Model):
    """One text of a post. Edits add versions; the latest one is what gets screened."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    raw_text = models.TextField()
    html = models.TextField(blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    edit_reason = models.CharField(max_length=500, blank=True)
    text_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "version"], name="post_version_unique")]
        ordering = ["post_id", "version"]

    def __str__(self) -> str:
        return f"{self.post} v{self.version}"

    @property
    def is_latest(self) -> bool:
        return self.version == self.post.current_version


class Delivery(models.Model):
    """Log of every delivery to an intake endpoint or import, accepted or not."""

    class Outcome(models.TextChoices):
        # A valid delivery is stored as QUEUED with its body and answered at once; the intake
        # drain (a Celery task) turns it into a post version and sets ACCEPTED or DUPLICATE.
        QUEUED = "queued", "Queued (stored, not yet processed)"
        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate"
        IGNORED = "ignored", "Ignored (event not screened)"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed while processing (kept; `manage.py intake_drain --retry-failed`)"

    source = models.ForeignKey(ForumSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    source_slug = models.CharField(max_length=64, blank=True)
    endpoint = models.CharField(max_length=16)
    event = models.CharField(max_length=64, blank=True)
    event_id = models.CharField(max_length=200, blank=True)
    # Standard Webhooks `webhook-id`: unique among accepted deliveries of a source.
    message_id = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    headers = models.JSONField(default=dict, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    body_size = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField()
    error = models.TextField(blank=True)
    post_version = models.ForeignKey(PostVersion, null=True, blank=True, on_delete=models.SET_NULL)
    # The raw body of a queued delivery; emptied once it is processed (the post version keeps the text).
    body = models.BinaryField(blank=True, default=b"")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "message_id"],
                condition=models.Q(outcome__in=["queued", "accepted"]) & ~models.Q(message_id=""),
                name="delivery_message_id_unique_when_kept",
            )
        ]
        indexes = [
            # The drain's claim query: the oldest queued deliveries, without scanning the log.
            models.Index(fields=["id"], condition=models.Q(outcome="queued"), name="delivery_queued_idx"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.endpoint} {self.event} {self.outcome}"
