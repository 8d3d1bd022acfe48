import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from forum_helper.intake.models import ForumSource, Post, PostVersion, Thread
from forum_helper.intake.types import IncomingPost
from forum_helper.screening.services import screening_enqueue


@dataclass(frozen=True)
class IngestResult:
    post_version: PostVersion
    created: bool  # False: this exact version was already stored (a duplicate delivery)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def post_ingest(*, source: ForumSource, incoming: IncomingPost) -> IngestResult:
    """Store a post version idempotently and enqueue its screening after commit.

    The de-duplication key is (source, post id, version); for paths without versions, the
    text: an unchanged text is a duplicate, a changed one the next version.
    """
    try:
        with transaction.atomic():
            return _post_ingest(source=source, incoming=incoming)
    except IntegrityError:
        # A concurrent delivery of the same post won the insert: it is now a duplicate.
        with transaction.atomic():
            return _post_ingest(source=source, incoming=incoming)


def _post_ingest(*, source: ForumSource, incoming: IncomingPost) -> IngestResult:
    thread, _ = Thread.objects.get_or_create(
        source=source,
        external_id=incoming.thread_external_id,
        defaults={"title": incoming.thread_title, "created_at": incoming.created_at, "url": incoming.thread_url},
    )
    if incoming.thread_title and thread.title != incoming.thread_title:
        thread.title = incoming.thread_title
        thread.save(update_fields=["title"])

    post, _ = Post.objects.get_or_create(
        source=source,
        external_id=incoming.post_external_id,
        defaults={"thread": thread},
    )
    # Lock the post row: concurrent versions of one post are numbered one at a time.
    post = Post.objects.select_for_update().get(pk=post.pk)

    latest = post.versions.filter(version=post.current_version).first()
    if incoming.version is None:
        if latest is not None and latest.raw_text == incoming.raw_text:
            return IngestResult(post_version=latest, created=False)
        version_number = post.current_version + 1
    else:
        existing = post.versions.filter(version=incoming.version).first()
        if existing is not None:
            return IngestResult(post_version=existing, created=False)
        version_number = incoming.version

    post_version = PostVersion.objects.create(
        post=post,
        version=version_number,
        raw_text=incoming.raw_text,
        html=incoming.html,
        edited_at=incoming.edited_at,
        edit_reason=incoming.edit_reason,
        text_sha256=text_sha256(incoming.raw_text),
    )
    if version_number >= post.current_version:
        _post_update_from_incoming(post=post, thread=thread, incoming=incoming, version_number=version_number)
        # Only the latest version is screened; an older version arriving late is kept, not screened.
        screening_enqueue(post_version_id=post_version.pk)
    return IngestResult(post_version=post_version, created=True)


def _post_update_from_incoming(*, post: Post, thread: Thread, incoming: IncomingPost, version_number: int) -> None:
    post.thread = thread
    post.current_version = version_number
    post.author_name = incoming.author_name
    post.author_external_id = incoming.author_external_id
    post.author_role = incoming.author_role
    post.author_title = incoming.author_title
    post.trust_level = incoming.trust_level
    post.position = incoming.position
    post.reply_to_position = incoming.reply_to_position
    post.created_at = post.created_at or incoming.created_at
    post.edited_at = incoming.edited_at
    post.parent = _parent_find(post=post, thread=thread, incoming=incoming)
    post.save()


def _parent_find(*, post: Post, thread: Thread, incoming: IncomingPost) -> Post | None:
    parents = Post.objects.filter(source=post.source, thread=thread).exclude(pk=post.pk)
    if incoming.parent_external_id:
        return parents.filter(external_id=incoming.parent_external_id).first()
    if incoming.reply_to_position:
        return parents.filter(position=incoming.reply_to_position).first()
    return None
