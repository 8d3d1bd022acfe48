"""Screening a batch: the same findings, queue items and audit rows as one version at a time,
in a number of statements that does not grow with the batch."""
import itertools
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from forum_helper.core.models import AuditLog
from forum_helper.intake.models import AuthorRole, ForumSource, Post, PostVersion, Thread
from forum_helper.library import selectors as library_selectors
from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.services import decision_create
from forum_helper.rules import services as rule_services
from forum_helper.screening.models import Finding
from forum_helper.screening.services import (
    THREAD_CONTEXT_POSTS,
    post_contexts_build,
    post_version_screen,
    post_versions_screen,
)
from tests.conftest import user_with_role
from tests.rules.conftest import _fresh_ruleset_cache, ZAPWAND_POST, ZAPWAND_RULE  # noqa: F401 - autouse fixture

pytestmark = pytest.mark.django_db

RISKY = "I will roll a 1.5mm dermaroller on my face every 3 days and put tretinoin on after."
RISKY_TOO = "I will dermaroller 1mm weekly then put my Protopic on right after and use my UVB lamp."
HARMLESS = "Which sunscreen do you like for everyday use?"
FOLLOW_UP = "Same here, I'll put it on right after rolling tonight."
MISSING_ID = 2_000_000_000

_numbers = itertools.count(1)


@pytest.fixture
def source() -> ForumSource:
    return ForumSource.objects.create(slug="batch-screening", kind=ForumSource.Kind.IMPORT)


def _thread(source: ForumSource, title: str) -> Thread:
    return Thread.objects.create(source=source, external_id=f"t{next(_numbers)}", title=title)


def _post(thread: Thread, text: str, *, position: int | None, parent: Post | None = None,
          role: str = AuthorRole.MEMBER) -> PostVersion:
    post = Post.objects.create(source=thread.source, thread=thread, external_id=f"p{next(_numbers)}", position=position,
                               parent=parent, author_role=role, current_version=1)
    return PostVersion.objects.create(post=post, version=1, raw_text=text, text_sha256=f"sha{next(_numbers)}")


def _edit(version: PostVersion, text: str) -> PostVersion:
    post = version.post
    post.current_version += 1
    post.save(update_fields=["current_version"])
    return PostVersion.objects.create(post=post, version=post.current_version, raw_text=text,
                                      text_sha256=f"sha{next(_numbers)}")


def _mixed_batch(source: ForumSource) -> list[int]:
    """Version ids in the order the drain would send them, with everything screening meets."""
    needling = _thread(source, "Dermarolling at home")
    opener = _post(needling, RISKY, position=1)
    unthreaded = _post(needling, FOLLOW_UP, position=2)  # answers the opener
    harmless = _post(needling, HARMLESS, position=3)
    threaded = _post(needling, FOLLOW_UP, position=4, parent=unthreaded.post)
    staff = _post(needling, RISKY_TOO, position=5, role=AuthorRole.STAFF)
    positionless = _post(needling, FOLLOW_UP, position=None)
    device = _post(_thread(source, "New gadget"), ZAPWAND_POST, position=1)  # a shadow rule fires
    lone = _post(_thread(source, "Sunscreen"), HARMLESS, position=1)

    # Screened, queued and resolved before; the edit is screened in the batch and re-opens it.
    edited = _post(_thread(source, "Microneedling pen"), RISKY_TOO, position=1)
    item = QueueItem.objects.get(post=post_version_screen(post_version_id=edited.pk).post_version.post)
    decision_create(item_id=item.pk, actor=user_with_role("mo"), kind="dismiss", reason="fine then",
                    expected_version=None)
    edit = _edit(edited, RISKY)
    # Screened before the batch (a redelivery): its finding is kept as it is.
    already = _post(_thread(source, "Again"), RISKY, position=1)
    post_version_screen(post_version_id=already.pk)

    return [opener.pk, unthreaded.pk, harmless.pk, threaded.pk, staff.pk, positionless.pk, device.pk, lone.pk,
            edited.pk, edit.pk, already.pk, MISSING_ID]


def _outcome() -> dict[str, Any]:
    """What screening left behind, without the ids that differ from one run to the next."""
    findings = {
        finding.post_version_id: {
            field: getattr(finding, field)
            for field in ("ruleset_version", "risky", "severity", "stance", "categories", "modifiers", "evidence",
                          "explanation", "rule_ids", "rule_revisions", "measures", "shadow_rule_ids", "shadow_result",
                          "references")
        }
        for finding in Finding.objects.all()
    }
    items = {
        item.post_id: (item.finding.post_version_id, item.lane, item.status, item.severity, item.priority,
                       item.is_staff_author, item.categories, item.category_keys, item.version,
                       item.edited_since_decision)
        for item in QueueItem.objects.select_related("finding")
    }
    post_of_item = dict(QueueItem.objects.values_list("pk", "post_id"))
    audits = sorted(
        (post_of_item[int(row.target_id)], row.action,
         sorted((key, str(value)) for key, value in (row.after or {}).items() if key != "finding_id"))
        for row in AuditLog.objects.filter(target_type="moderation.queueitem")
    )
    return {"findings": findings, "items": items, "audits": audits}


def _screened_then_rolled_back(screen) -> tuple[Any, dict[str, Any]]:
    class _Undo(Exception):
        pass

    try:
        with transaction.atomic():
            library_selectors._links_cache.clear()  # each run links its own references
            returned = screen()
            outcome = _outcome()
            raise _Undo
    except _Undo:
        pass
    return returned, outcome


def test_a_batch_leaves_the_same_findings_items_and_audit_rows_as_one_version_at_a_time(source: ForumSource) -> None:
    rule_services.rule_create(actor=user_with_role("ada"), record={**ZAPWAND_RULE, "mode": "shadow"}, reason="watch")
    ids = _mixed_batch(source)

    count, batched = _screened_then_rolled_back(lambda: post_versions_screen(post_version_ids=ids))
    _, alone = _screened_then_rolled_back(
        lambda: [post_version_screen(post_version_id=pk) for pk in ids if pk != MISSING_ID]
    )

    assert count == len(ids) - 1
    assert batched == alone
    # The mix did reach every branch it is meant to.
    new = {pk: batched["findings"][pk] for pk in ids[:8]}
    assert [finding["risky"] for finding in new.values()].count(True) >= 2
    assert any(not finding["risky"] for finding in new.values())
    assert new[ids[6]]["shadow_rule_ids"] == ["test.zapwand"]
    assert any(finding["references"] for finding in new.values())
    assert any(action == "queue_item.reopened" for _, action, _ in batched["audits"])
    assert any(action == "queue_item.created" for _, action, _ in batched["audits"])
    edited_item = batched["items"][PostVersion.objects.get(pk=ids[9]).post_id]
    assert edited_item[0] == ids[9] and edited_item[2] == QueueItem.Status.OPEN and edited_item[9] is True


def test_screening_a_batch_again_adds_nothing(source: ForumSource) -> None:
    ids = _mixed_batch(source)
    post_versions_screen(post_version_ids=ids)
    before = _outcome()

    post_versions_screen(post_version_ids=ids)

    assert _outcome() == before
    assert Finding.objects.count() == len(before["findings"])


def _reference_context(post: Post) -> tuple[str, str, tuple[str, ...]]:
    """The thread context as its definition reads it, one post at a time."""
    earlier = PostVersion.objects.filter(post__thread_id=post.thread_id, version=F("post__current_version")).exclude(
        post_id=post.pk
    )
    if post.position is not None:
        earlier = earlier.filter(post__position__lt=post.position)
    texts = list(earlier.order_by(F("post__position").asc(nulls_last=True), "post_id")
                 .values_list("raw_text", flat=True)[:THREAD_CONTEXT_POSTS])
    parent_text = ""
    if post.parent is not None and post.parent.current_version:
        parent_text = post.parent.versions.get(version=post.parent.current_version).raw_text
    elif post.position and post.position > 1 and texts:
        parent_text = texts[0]
    return post.thread.title, parent_text, tuple(texts)


def test_thread_contexts_of_a_batch_match_their_definition_in_long_threads(source: ForumSource) -> None:
    long = _thread(source, "A long thread")
    versions = [_post(long, f"post number {n}", position=n) for n in range(1, 31)]
    versions.append(_post(long, "no position", position=None))
    versions.append(_post(long, "another without position", position=None))
    versions.append(_post(long, "same position as the third", position=3))
    other = _thread(source, "Elsewhere")
    versions.append(_post(other, "replies across threads", position=2, parent=versions[27].post))
    versions.append(_post(other, "replies to a late post", position=3, parent=versions[29].post))
    _edit(versions[0], "the opener, edited")  # context reads current versions only

    posts = list(Post.objects.select_related("thread", "parent").order_by("pk"))
    contexts = post_contexts_build(posts=posts)

    for post in posts:
        context = contexts[post.pk]
        assert (context.thread_title, context.parent_text, context.thread_posts) == _reference_context(post), post
    assert len(contexts[versions[29].post_id].thread_posts) == THREAD_CONTEXT_POSTS


def _posts(source: ForumSource, count: int) -> list[int]:
    """Posts as a busy forum sends them: threads of a few replies repeating familiar advice."""
    texts = [RISKY, FOLLOW_UP, HARMLESS, RISKY_TOO, FOLLOW_UP]
    ids = []
    for start in range(0, count, len(texts)):
        thread = _thread(source, "Skin talk")
        opener = None
        for position, text in enumerate(texts[: count - start], start=1):
            version = _post(thread, text, position=position, parent=opener if position == 3 else None)
            opener = opener or version.post
            ids.append(version.pk)
    return ids


# Versions, ruleset, shadow ruleset, earlier findings, thread heads, parents (here in the heads,
# so not read), library stamp; then BEGIN, findings, item lock, items, audit rows, COMMIT (a
# savepoint and its release inside the test's transaction).
BATCH_STATEMENTS = 13


@pytest.mark.parametrize("batch_size", [25, 50])
def test_a_batch_costs_the_same_few_statements_whatever_its_size(source: ForumSource, batch_size: int) -> None:
    post_versions_screen(post_version_ids=_posts(source, 5))  # compiles the ruleset, links the familiar evidence
    ids = _posts(source, batch_size)

    with CaptureQueriesContext(connection) as queries:
        post_versions_screen(post_version_ids=ids)

    assert Finding.objects.filter(post_version_id__in=ids).count() == batch_size
    assert QueueItem.objects.filter(finding__post_version_id__in=ids).count() >= batch_size // 5
    assert len(queries) <= BATCH_STATEMENTS, "\n".join(query["sql"][:120] for query in queries)
    inserts = [query["sql"] for query in queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == 3  # findings, queue items, audit rows
    # Each as VALUES: Django's UNNEST arrays make psycopg regex-escape every JSON value (~1 ms a row).
    assert not any("UNNEST" in sql for sql in inserts), [sql[:200] for sql in inserts]


def test_a_version_screened_concurrently_mid_batch_keeps_one_finding_and_one_item(
    source: ForumSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forum_helper.library import services as library_services

    ids = _posts(source, 5)
    link = library_services.references_for_analyses
    raced = []

    def link_while_a_redelivery_screens_the_first(**kwargs):
        # Between the batch's check for earlier findings and its insert, another worker wins.
        if not raced:
            raced.append(True)
            post_version_screen(post_version_id=ids[0])
        return link(**kwargs)

    monkeypatch.setattr(library_services, "references_for_analyses", link_while_a_redelivery_screens_the_first)

    assert post_versions_screen(post_version_ids=ids) == len(ids)

    assert raced
    first = Finding.objects.get(post_version_id=ids[0])
    assert Finding.objects.filter(post_version_id__in=ids).count() == len(ids)
    assert QueueItem.objects.filter(post__versions__pk__in=ids).count() == QueueItem.objects.filter(
        finding__post_version_id__in=ids).count()
    assert QueueItem.objects.filter(finding=first).count() == 1
    assert AuditLog.objects.filter(action="queue_item.created").count() == QueueItem.objects.count()
