import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.services import audit_record
from forum_helper.intake.models import ForumSource, Post, PostVersion, Thread
from forum_helper.intake.signatures import standard_secret_key
from forum_helper.intake.types import IncomingPost
from forum_helper.screening.services import screening_enqueue


@dataclass(frozen=True)
class IngestResult:
    post_version: PostVersion
    created: bool  # False: this exact version was already stored (a duplicate delivery)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class IngestBatchLookup:
    """What a batch of posts found stored when it started (ingest_batch_lookup): post_ingest
    then skips its lookups for posts known to be new and threads already read. Only rows whose
    savepoint was released are remembered, so a delivery that fails leaves nothing behind."""

    absent_posts: set[tuple[int, str]]  # (source id, post external id)
    threads: dict[tuple[int, str], Thread | None]  # (source id, thread external id); None: absent

    def post_is_new(self, source: ForumSource, incoming: IncomingPost) -> bool:
        return (source.pk, incoming.post_external_id) in self.absent_posts

    def thread_known(self, source: ForumSource, incoming: IncomingPost) -> tuple[bool, Thread | None]:
        key = (source.pk, incoming.thread_external_id)
        return key in self.threads, self.threads.get(key)

    def stored(self, source: ForumSource, incoming: IncomingPost, thread: Thread) -> None:
        self.absent_posts.discard((source.pk, incoming.post_external_id))
        self.thread_stored(thread)

    def thread_stored(self, thread: Thread) -> None:
        self.threads[(thread.source_id, thread.external_id)] = thread

    def threads_forget(self, keys: set[tuple[int, str]]) -> None:
        """Read these threads again: a rolled-back savepoint may have changed their copies here."""
        for key in keys:
            self.threads.pop(key, None)


def ingest_batch_lookup(*, items: list[tuple[ForumSource, IncomingPost]]) -> IngestBatchLookup:
    """Two queries for a batch: which of its posts exist, and its threads."""
    if not items:
        return IngestBatchLookup(absent_posts=set(), threads={})
    post_keys = {(source.pk, incoming.post_external_id) for source, incoming in items}
    thread_keys = {(source.pk, incoming.thread_external_id) for source, incoming in items}
    present = set(Post.objects.filter(_keys_match(post_keys)).values_list("source_id", "external_id"))
    threads: dict[tuple[int, str], Thread | None] = dict.fromkeys(thread_keys)
    threads.update(((t.source_id, t.external_id), t) for t in Thread.objects.filter(_keys_match(thread_keys)))
    return IngestBatchLookup(absent_posts=post_keys - present, threads=threads)


def _keys_match(keys: set[tuple[int, str]]) -> Q:
    by_source: dict[int, list[str]] = {}
    for source_id, external_id in keys:
        by_source.setdefault(source_id, []).append(external_id)
    match = Q()
    for source_id, external_ids in by_source.items():
        match |= Q(source_id=source_id, external_id__in=external_ids)
    return match


def post_ingest(*, source: ForumSource, incoming: IncomingPost, lookup: IngestBatchLookup | None = None) -> IngestResult:
    """Store a post version idempotently and enqueue its screening after commit.

    The de-duplication key is (source, post id, version); for paths without versions, the
    text: an unchanged text is a duplicate, a changed one the next version. A concurrent
    delivery of the same post can win an insert (IntegrityError): the unit is rolled back and
    run once more, without the batch's hints, when the post is found and locked.
    """
    for attempt in (1, 2):
        hints = lookup if attempt == 1 else None
        try:
            with transaction.atomic():
                result, thread = _post_ingest(source=source, incoming=incoming, lookup=hints)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        if lookup is not None:
            lookup.stored(source, incoming, thread)  # after the savepoint: only rows that stay
        return result
    raise AssertionError("unreachable")


class NewPostRun:
    """Consecutive new posts of a drain batch, stored together by new_posts_ingest.

    It holds only posts whose outcome cannot depend on another post of the run: each is new
    (not stored when the batch started), appears once, and does not answer a post of the run.
    """

    def __init__(self) -> None:
        self.items: list[tuple[ForumSource, IncomingPost]] = []
        self._posts: set[tuple[int, str]] = set()  # (source id, post external id)
        self._positions: set[tuple[int, str, int]] = set()  # (source id, thread external id, position)

    def admits(self, source: ForumSource, incoming: IncomingPost, lookup: IngestBatchLookup) -> bool:
        if not lookup.post_is_new(source, incoming) or (source.pk, incoming.post_external_id) in self._posts:
            return False
        if incoming.parent_external_id:
            return (source.pk, incoming.parent_external_id) not in self._posts
        if incoming.reply_to_position:
            return (source.pk, incoming.thread_external_id, incoming.reply_to_position) not in self._positions
        return True

    def add(self, source: ForumSource, incoming: IncomingPost) -> None:
        self.items.append((source, incoming))
        self._posts.add((source.pk, incoming.post_external_id))
        if incoming.position is not None:
            self._positions.add((source.pk, incoming.thread_external_id, incoming.position))


def new_posts_ingest(*, run: NewPostRun, lookup: IngestBatchLookup) -> list[PostVersion]:
    """Store a run of new posts with a few statements instead of a savepoint and 2-3 INSERTs
    each, leaving what post_ingest would leave one post at a time. All or nothing: on
    IntegrityError (a concurrent delivery stored one of them) or DataError the run's savepoint
    is rolled back and nothing is remembered, so the caller can ingest them one by one."""
    with transaction.atomic():
        threads = _run_threads(run=run, lookup=lookup)
        parents = _run_parents(run=run, threads=threads)
        posts = []
        for source, incoming in run.items:
            post = Post(source=source, external_id=incoming.post_external_id)
            _post_fields_set(post=post, thread=threads[(source.pk, incoming.thread_external_id)], incoming=incoming,
                             version_number=incoming.version if incoming.version is not None else 1,
                             parent_id=parents.get((source.pk, incoming.post_external_id)))
            posts.append(post)
        Post.objects.bulk_create(posts)
        versions = PostVersion.objects.bulk_create([
            _post_version_build(post=post, incoming=incoming, version_number=post.current_version)
            for post, (_source, incoming) in zip(posts, run.items)
        ])
    for (source, incoming), post, version in zip(run.items, posts, versions):
        lookup.stored(source, incoming, post.thread)  # after the savepoint: only rows that stay
        screening_enqueue(post_version_id=version.pk)
    return versions


def _run_threads(*, run: NewPostRun, lookup: IngestBatchLookup) -> dict[tuple[int, str], Thread]:
    """The run's threads: the known ones read, the others created with their first post's
    fields; each ends with the title the run's last post gives it, as one post at a time would."""
    threads: dict[tuple[int, str], Thread] = {}
    created: list[Thread] = []
    titles: dict[tuple[int, str], str] = {}
    for source, incoming in run.items:
        key = (source.pk, incoming.thread_external_id)
        if key not in threads:
            known, thread = lookup.thread_known(source, incoming)
            if not known:
                thread = Thread.objects.filter(source=source, external_id=incoming.thread_external_id).first()
            if thread is None:
                thread = Thread(source=source, external_id=incoming.thread_external_id, title=incoming.thread_title,
                                created_at=incoming.created_at, url=incoming.thread_url)
                created.append(thread)
            threads[key] = thread
        if incoming.thread_title:
            titles[key] = incoming.thread_title
    Thread.objects.bulk_create(created)
    for key, title in titles.items():
        _thread_title_update(thread=threads[key], title=title)
    return threads


def _run_parents(*, run: NewPostRun, threads: dict[tuple[int, str], Thread]) -> dict[tuple[int, str], int]:
    """(source id, post external id) -> parent pk, for the run's replies to stored posts (one query).
    As _parent_find: the parent's post id in the thread, else its position; the lowest pk wins."""
    replies = [(source, incoming) for source, incoming in run.items
               if incoming.parent_external_id or incoming.reply_to_position]
    if not replies:
        return {}
    thread_ids = {threads[(source.pk, incoming.thread_external_id)].pk for source, incoming in replies}
    by_external_id: dict[tuple[int, str], int] = {}
    by_position: dict[tuple[int, int], int] = {}
    candidates = (
        Post.objects.filter(thread_id__in=thread_ids)
        .filter(Q(external_id__in={incoming.parent_external_id for _, incoming in replies if incoming.parent_external_id})
                | Q(position__in={incoming.reply_to_position for _, incoming in replies if incoming.reply_to_position}))
        .order_by("pk")
        .values_list("pk", "thread_id", "external_id", "position")
    )
    for pk, thread_id, external_id, position in candidates:
        by_external_id.setdefault((thread_id, external_id), pk)
        if position is not None:
            by_position.setdefault((thread_id, position), pk)
    parents = {}
    for source, incoming in replies:
        thread_id = threads[(source.pk, incoming.thread_external_id)].pk
        parent = (by_external_id.get((thread_id, incoming.parent_external_id)) if incoming.parent_external_id
                  else by_position.get((thread_id, incoming.reply_to_position)))
        if parent is not None:
            parents[(source.pk, incoming.post_external_id)] = parent
    return parents


_POST_UPDATE_FIELDS = [
    "thread", "current_version", "author_name", "author_external_id", "author_role", "author_title", "trust_level",
    "position", "reply_to_position", "created_at", "edited_at", "parent",
]


def _post_ingest(
    *, source: ForumSource, incoming: IncomingPost, lookup: IngestBatchLookup | None
) -> tuple[IngestResult, Thread]:
    post = None
    if lookup is None or not lookup.post_is_new(source, incoming):
        # Lock the post row: concurrent versions of one post are numbered one at a time.
        post = (
            Post.objects.select_for_update(of=("self",))
            .select_related("thread")
            .filter(source=source, external_id=incoming.post_external_id)
            .first()
        )
    if post is not None and post.thread.external_id == incoming.thread_external_id:
        thread = post.thread
        _thread_title_update(thread=thread, title=incoming.thread_title)
    else:
        thread = _thread_get_or_create(source=source, incoming=incoming, lookup=lookup)

    if post is None:
        # A new post: one INSERT with every field (a concurrent insert of the same post raises
        # IntegrityError and the caller retries, then finding this row).
        version_number = incoming.version if incoming.version is not None else 1
        post = Post(source=source, external_id=incoming.post_external_id)
        _post_fields_set(post=post, thread=thread, incoming=incoming, version_number=version_number,
                         parent_id=_parent_find(source_id=source.pk, post_pk=None, thread=thread, incoming=incoming))
        post.save(force_insert=True)
        post_version = _post_version_create(post=post, incoming=incoming, version_number=version_number)
        screening_enqueue(post_version_id=post_version.pk)
        return IngestResult(post_version=post_version, created=True), thread

    wanted = {post.current_version} if incoming.version is None else {post.current_version, incoming.version}
    stored = {pv.version: pv for pv in PostVersion.objects.filter(post=post, version__in=wanted)}
    if incoming.version is None:
        latest = stored.get(post.current_version)
        if latest is not None and latest.raw_text == incoming.raw_text:
            return IngestResult(post_version=latest, created=False), thread
        version_number = post.current_version + 1
    else:
        existing = stored.get(incoming.version)
        if existing is not None:
            return IngestResult(post_version=existing, created=False), thread
        version_number = incoming.version

    post_version = _post_version_create(post=post, incoming=incoming, version_number=version_number)
    if version_number >= post.current_version:
        _post_fields_set(post=post, thread=thread, incoming=incoming, version_number=version_number,
                         parent_id=_parent_find(source_id=source.pk, post_pk=post.pk, thread=thread, incoming=incoming))
        post.save(update_fields=_POST_UPDATE_FIELDS)
        # Only the latest version is screened; an older version arriving late is kept, not screened.
        screening_enqueue(post_version_id=post_version.pk)
    return IngestResult(post_version=post_version, created=True), thread


def _thread_get_or_create(*, source: ForumSource, incoming: IncomingPost, lookup: IngestBatchLookup | None) -> Thread:
    known, thread = lookup.thread_known(source, incoming) if lookup is not None else (False, None)
    if not known:
        thread = Thread.objects.filter(source=source, external_id=incoming.thread_external_id).first()
    if thread is None:
        # No savepoint: a concurrent insert raises IntegrityError and the whole unit is retried.
        thread = Thread(
            source=source,
            external_id=incoming.thread_external_id,
            title=incoming.thread_title,
            created_at=incoming.created_at,
            url=incoming.thread_url,
        )
        thread.save(force_insert=True)
    else:
        _thread_title_update(thread=thread, title=incoming.thread_title)
    return thread


def _thread_title_update(*, thread: Thread, title: str) -> None:
    if title and thread.title != title:
        thread.title = title
        thread.save(update_fields=["title"])


def _post_version_create(*, post: Post, incoming: IncomingPost, version_number: int) -> PostVersion:
    post_version = _post_version_build(post=post, incoming=incoming, version_number=version_number)
    post_version.save(force_insert=True)
    return post_version


def _post_version_build(*, post: Post, incoming: IncomingPost, version_number: int) -> PostVersion:
    return PostVersion(
        post=post,
        version=version_number,
        raw_text=incoming.raw_text,
        html=incoming.html,
        edited_at=incoming.edited_at,
        edit_reason=incoming.edit_reason,
        text_sha256=text_sha256(incoming.raw_text),
    )


def _post_fields_set(
    *, post: Post, thread: Thread, incoming: IncomingPost, version_number: int, parent_id: int | None
) -> None:
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
    post.parent_id = parent_id


def _parent_find(*, source_id: int, post_pk: int | None, thread: Thread, incoming: IncomingPost) -> int | None:
    if not incoming.parent_external_id and not incoming.reply_to_position:
        return None
    parents = Post.objects.filter(source_id=source_id, thread=thread)
    if post_pk is not None:
        parents = parents.exclude(pk=post_pk)
    if incoming.parent_external_id:
        parents = parents.filter(external_id=incoming.parent_external_id)
    else:
        parents = parents.filter(position=incoming.reply_to_position)
    return parents.order_by("pk").values_list("pk", flat=True).first()


def thread_upsert(
    *, source: ForumSource, external_id: str, title: str, url: str = "", created_at: datetime | None = None
) -> Thread:
    """Create a thread or update its title/url (Discourse topic_created carries no post text)."""
    try:
        with transaction.atomic():
            thread, created = Thread.objects.get_or_create(
                source=source,
                external_id=external_id,
                defaults={"title": title, "url": url, "created_at": created_at},
            )
    except IntegrityError:  # a concurrent delivery created it first
        thread, created = Thread.objects.get(source=source, external_id=external_id), False
    if created:
        return thread
    changed = []
    if title and thread.title != title:
        thread.title = title
        changed.append("title")
    if url and thread.url != url:
        thread.url = url
        changed.append("url")
    if created_at and thread.created_at is None:
        thread.created_at = created_at
        changed.append("created_at")
    if changed:
        thread.save(update_fields=changed)
    return thread


DISCOURSE_MIN_SECRET_LENGTH = 12


def forum_source_secrets_validate(*, kind: str, secrets: list[str]) -> None:
    """Raise ApplicationError when a secret cannot work for the source's kind."""
    if kind == ForumSource.Kind.IMPORT and secrets:
        raise ApplicationError("Import sources receive no webhooks; give them no secret.")
    for index, secret in enumerate(secrets):
        if secret != secret.strip() or not secret:
            raise ApplicationError(f"Secret #{index + 1} is empty or has leading/trailing whitespace.")
        if kind == ForumSource.Kind.DISCOURSE and len(secret) < DISCOURSE_MIN_SECRET_LENGTH:
            raise ApplicationError(
                f"Secret #{index + 1} has {len(secret)} characters; Discourse requires at least "
                f"{DISCOURSE_MIN_SECRET_LENGTH}. Use the same secret as in the forum's webhook settings."
            )
        if kind == ForumSource.Kind.STANDARD:
            try:
                standard_secret_key(secret)
            except ValueError as error:
                raise ApplicationError(f"Secret #{index + 1} is not a Standard Webhooks secret: {error} (whsec_<base64>).") from error


def _forum_source_snapshot(source: ForumSource) -> dict[str, Any]:
    return {
        "slug": source.slug,
        "name": source.name,
        "kind": source.kind,
        "instance_url": source.instance_url,
        "secrets": source.masked_secrets(),
    }


def forum_source_upsert(
    *,
    slug: str,
    kind: str,
    secrets: list[str] | None = None,
    instance_url: str | None = None,
    name: str | None = None,
    actor: AbstractBaseUser | None = None,
) -> tuple[ForumSource, bool]:
    """Create a source or update it; None leaves a field unchanged. `secrets` replaces the list
    (to rotate, pass the new secret and the old one until the forum uses the new one)."""
    if kind not in ForumSource.Kind.values:
        raise ApplicationError(f"Unknown kind {kind!r}; use one of {', '.join(ForumSource.Kind.values)}.")
    with transaction.atomic():
        # Lock: two admins updating one source apply one after the other.
        source = ForumSource.objects.select_for_update().filter(slug=slug).first()
        created = source is None
        before = None if created else _forum_source_snapshot(source)
        if created:
            source = ForumSource(slug=slug)
        source.kind = kind
        if secrets is not None:
            source.secrets = list(secrets)
        if instance_url is not None:
            source.instance_url = instance_url.rstrip("/")
        if name is not None:
            source.name = name
        forum_source_secrets_validate(kind=source.kind, secrets=source.secrets)
        try:
            source.full_clean()
        except ValidationError as error:
            raise ApplicationError("The source is not valid; see extra.fields.", extra={"fields": error.message_dict}) from error
        source.save()
        audit_record(
            actor=actor,
            action="forum_source.created" if created else "forum_source.updated",
            target=source,
            before=before,
            after=_forum_source_snapshot(source),
        )
    return source, created
