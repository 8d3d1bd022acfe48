import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import IntegrityError, transaction
from django.db.models import F

from forum_helper.analysis import PostContext, PostInput, analyze
from forum_helper.core.broker import task_publish
from forum_helper.intake.models import Post, PostVersion
from forum_helper.screening.models import Finding

logger = logging.getLogger(__name__)

THREAD_CONTEXT_POSTS = 20


# Set by screening_batched(): enqueued ids are collected for one task instead of one task each.
_batch: ContextVar[list[int] | None] = ContextVar("screening_batch", default=None)


def screening_enqueue(*, post_version_id: int) -> None:
    """Enqueue screening once the current transaction commits; never fails the caller."""
    batch = _batch.get()
    if batch is not None:
        batch.append(post_version_id)
        return
    transaction.on_commit(lambda: screening_publish(post_version_id=post_version_id), robust=True)


@contextmanager
def screening_batched() -> Iterator[list[int]]:
    """Collect the versions enqueued inside; the caller publishes them with
    screening_publish_batch after its transaction commits (an id whose savepoint was rolled
    back may be among them: the task skips versions that do not exist)."""
    ids: list[int] = []
    token = _batch.set(ids)
    try:
        yield ids
    finally:
        _batch.reset(token)


def screening_publish_batch(*, post_version_ids: list[int]) -> bool:
    """One screening task for many versions (the intake drain's batches). False when the broker is unreachable."""
    from forum_helper.screening.tasks import screen_post_versions_task

    return bool(post_version_ids) and task_publish(screen_post_versions_task, post_version_ids)


def screening_publish(*, post_version_id: int) -> bool:
    """Send the screening task to the broker. False when the broker is unreachable (the sweep retries)."""
    from forum_helper.screening.tasks import screen_post_version_task

    return task_publish(screen_post_version_task, post_version_id)


def post_context_build(*, post: Post) -> PostContext:
    """The thread around a post: title, the text it replies to, and the earlier posts."""
    earlier = PostVersion.objects.filter(post__thread_id=post.thread_id, version=F("post__current_version")).exclude(
        post_id=post.pk
    )
    if post.position is not None:
        earlier = earlier.filter(post__position__lt=post.position)
    earlier_texts = list(earlier.order_by("post__position", "post_id").values_list("raw_text", flat=True)[:THREAD_CONTEXT_POSTS])
    parent = post.parent
    parent_text = ""
    if parent is not None and parent.current_version:
        parent_text = parent.versions.get(version=parent.current_version).raw_text
    elif post.position and post.position > 1 and earlier_texts:
        parent_text = earlier_texts[0]  # an unthreaded reply answers the opener
    return PostContext(thread_title=post.thread.title, parent_text=parent_text, thread_posts=tuple(earlier_texts))


def post_version_screen(*, post_version_id: int) -> Finding | None:
    """Screen one post version with the active ruleset; idempotent per (version, ruleset version).

    Returns None when the version is no longer the latest (a newer edit gets screened instead).
    """
    from forum_helper.library.services import references_for_analysis
    from forum_helper.moderation.services import queue_item_sync_for_finding
    from forum_helper.rules.selectors import ruleset_active, shadow_result_for

    post_version = PostVersion.objects.select_related("post__thread", "post__parent").get(pk=post_version_id)
    if not post_version.is_latest:
        return None
    ruleset = ruleset_active()
    existing = Finding.objects.filter(post_version=post_version, ruleset_version=ruleset.version).first()
    if existing is not None:
        return existing

    post = post_version.post
    post_input = PostInput(text=post_version.raw_text, author_role=post.author_role)
    context = post_context_build(post=post)
    analysis = analyze(post_input, context, ruleset.compiled)
    result = analysis.to_dict()
    # Shadow rules are recorded on the finding; they never change what gets queued.
    shadow_rule_ids, shadow_result = shadow_result_for(post_input, context, analysis)
    try:
        with transaction.atomic():
            finding = Finding.objects.create(
                post_version=post_version,
                ruleset_version=ruleset.version,
                risky=result["risky"],
                severity=result["severity"],
                stance=result["stance"],
                categories=result["categories"],
                modifiers=result["modifiers"],
                evidence=result["evidence"],
                explanation=result["explanation"],
                rule_ids=result["rule_ids"],
                rule_revisions={rid: ruleset.rule_revisions[rid] for rid in result["rule_ids"] if rid in ruleset.rule_revisions},
                measures=result.get("measures") or {},
                shadow_rule_ids=shadow_rule_ids,
                shadow_result=shadow_result,
                references=references_for_analysis(analysis=analysis),
            )
            queue_item_sync_for_finding(finding=finding)
    except IntegrityError:
        # A redelivered task screened the same version concurrently; keep the first finding.
        return Finding.objects.get(post_version=post_version, ruleset_version=ruleset.version)
    return finding


def post_versions_screen(*, post_version_ids: list[int]) -> int:
    """Screen each version that exists, in order; returns how many were screened."""
    existing = set(PostVersion.objects.filter(pk__in=post_version_ids).values_list("pk", flat=True))
    for post_version_id in post_version_ids:
        if post_version_id in existing:
            post_version_screen(post_version_id=post_version_id)
    return len(existing)


def post_versions_pending() -> "list[int]":
    """Ids of latest post versions that have no finding yet (under any ruleset)."""
    return list(
        PostVersion.objects.filter(version=F("post__current_version"), findings__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def screen_pending(*, enqueue: bool = True) -> tuple[int, int]:
    """Enqueue (or, with enqueue=False, run here) screening of every unscreened latest version.

    Returns (pending, handled): handled counts tasks published or screenings run.
    """
    pending = post_versions_pending()
    handled = 0
    for post_version_id in pending:
        if enqueue:
            handled += screening_publish(post_version_id=post_version_id)
        else:
            post_version_screen(post_version_id=post_version_id)
            handled += 1
    return len(pending), handled
