import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from forum_helper.analysis import Analysis, PostContext, PostInput, analyze_many
from forum_helper.core.broker import task_publish
from forum_helper.intake.models import Post, PostVersion
from forum_helper.screening.models import Finding

if TYPE_CHECKING:
    from forum_helper.rules.selectors import ActiveRuleset

logger = logging.getLogger(__name__)

THREAD_CONTEXT_POSTS = 20
# Versions screened together when the sweep runs in-process.
SCREEN_BATCH_SIZE = 100


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


# A thread's posts in reading order; positionless posts last on every database (PostgreSQL's
# default, not SQLite's), as the backtest reads them.
_THREAD_ORDER = [F("post__position").asc(nulls_last=True), F("post_id").asc()]


def post_context_build(*, post: Post) -> PostContext:
    """The thread around a post: title, the text it replies to, and the earlier posts."""
    return post_contexts_build(posts=[post])[post.pk]


def post_contexts_build(*, posts: list[Post]) -> dict[int, PostContext]:
    """post_context_build of each post (by post id), in two queries whatever the number of posts."""
    # A post's earlier posts (position below its own, or all others when it has none) are a
    # prefix of its thread in reading order, so the thread's first THREAD_CONTEXT_POSTS + 1
    # current versions (one may be the post itself) hold all it needs.
    heads = (
        PostVersion.objects.filter(post__thread_id__in={post.thread_id for post in posts}, version=F("post__current_version"))
        .annotate(rank=Window(RowNumber(), partition_by=F("post__thread_id"), order_by=_THREAD_ORDER))
        .filter(rank__lte=THREAD_CONTEXT_POSTS + 1)
        .order_by("post__thread_id", "rank")
        .values_list("post__thread_id", "post_id", "post__position", "raw_text")
    )
    threads: dict[int, list[tuple[int, int | None, str]]] = defaultdict(list)
    current_texts: dict[int, str] = {}
    for thread_id, post_id, position, text in heads:
        threads[thread_id].append((post_id, position, text))
        current_texts[post_id] = text
    parents = {post.parent_id for post in posts if post.parent is not None and post.parent.current_version}
    if parents - current_texts.keys():
        current_texts.update(
            PostVersion.objects.filter(post_id__in=parents - current_texts.keys(), version=F("post__current_version"))
            .values_list("post_id", "raw_text")
        )

    contexts: dict[int, PostContext] = {}
    for post in posts:
        earlier = [
            text
            for post_id, position, text in threads[post.thread_id]
            if post_id != post.pk and (post.position is None or (position is not None and position < post.position))
        ][:THREAD_CONTEXT_POSTS]
        parent_text = ""
        if post.parent is not None and post.parent.current_version:
            parent_text = current_texts.get(post.parent_id, "")
        elif post.position and post.position > 1 and earlier:
            parent_text = earlier[0]  # an unthreaded reply answers the opener
        contexts[post.pk] = PostContext(thread_title=post.thread.title, parent_text=parent_text, thread_posts=tuple(earlier))
    return contexts


def post_version_screen(*, post_version_id: int) -> Finding | None:
    """Screen one post version with the active ruleset; idempotent per (version, ruleset version).

    Returns None when the version is no longer the latest (a newer edit gets screened instead).
    """
    screened = _versions_screen_safely([post_version_id])
    if post_version_id not in screened:
        raise PostVersion.DoesNotExist(f"No post version {post_version_id}")
    return screened[post_version_id]


def post_versions_screen(*, post_version_ids: list[int]) -> int:
    """Screen each version that exists, in one transaction; returns how many exist (screened now,
    before, or skipped as no longer the latest)."""
    return len(_versions_screen_safely(post_version_ids))


def _versions_screen_safely(post_version_ids: list[int]) -> dict[int, Finding | None]:
    try:
        return _versions_screen(post_version_ids)
    except IntegrityError:
        # A redelivered task screened some of these concurrently and its rows won; one at a
        # time, each version finds that finding (or queue item) and keeps it.
        screened: dict[int, Finding | None] = {}
        for post_version_id in dict.fromkeys(post_version_ids):
            screened.update(_versions_screen([post_version_id]))
        return screened


def _versions_screen(post_version_ids: list[int]) -> dict[int, Finding | None]:
    """Version id -> its finding under the active ruleset (made now or before), or None when the
    version is no longer the latest; ids that do not exist are left out.

    A fixed number of statements for the whole batch, plus a few for each existing queue item
    a finding changes; the writes are one transaction.
    """
    from forum_helper.library.services import references_for_analyses
    from forum_helper.moderation.services import queue_items_sync_for_findings
    from forum_helper.rules.selectors import ruleset_active, ruleset_shadow_for, shadow_result_for

    found = PostVersion.objects.select_related("post__thread", "post__parent").in_bulk(post_version_ids)
    screened: dict[int, Finding | None] = {pk: None for pk in dict.fromkeys(post_version_ids) if pk in found}
    latest = [found[pk] for pk in screened if found[pk].is_latest]
    if not latest:
        return screened
    ruleset = ruleset_active()
    earlier = Finding.objects.filter(post_version__in=latest, ruleset_version=ruleset.version)
    screened.update((finding.post_version_id, finding) for finding in earlier)
    to_screen = [version for version in latest if screened[version.pk] is None]
    if not to_screen:
        return screened

    shadow = ruleset_shadow_for(version=ruleset.version)
    contexts = post_contexts_build(posts=[version.post for version in to_screen])
    inputs = [
        (PostInput(text=version.raw_text, author_role=version.post.author_role), contexts[version.post_id])
        for version in to_screen
    ]
    analyses = analyze_many(inputs, ruleset.compiled)  # replies of one thread share its readings
    # Shadow rules are recorded on the finding; they never change what gets queued.
    shadows = [
        shadow_result_for(post_input, context, analysis, shadow=shadow)
        for (post_input, context), analysis in zip(inputs, analyses)
    ]
    references = references_for_analyses(analyses=analyses)
    findings = [
        _finding_build(version=version, ruleset=ruleset, analysis=analysis, shadow=shadow_outcome, references=refs)
        for version, analysis, shadow_outcome, refs in zip(to_screen, analyses, shadows, references)
    ]
    with transaction.atomic():
        Finding.objects.bulk_create(findings)
        queue_items_sync_for_findings(findings=findings)
    screened.update((finding.post_version_id, finding) for finding in findings)
    return screened


def _finding_build(*, version: PostVersion, ruleset: "ActiveRuleset", analysis: Analysis,
                   shadow: tuple[list[str], dict | None], references: list[dict]) -> Finding:
    result = analysis.to_dict()
    shadow_rule_ids, shadow_result = shadow
    return Finding(
        post_version=version,
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
        references=references,
    )


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
    if enqueue:
        for post_version_id in pending:
            handled += screening_publish(post_version_id=post_version_id)
    else:
        for start in range(0, len(pending), SCREEN_BATCH_SIZE):
            handled += post_versions_screen(post_version_ids=pending[start : start + SCREEN_BATCH_SIZE])
    return len(pending), handled
