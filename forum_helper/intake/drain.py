"""The intake drain: turns queued webhook deliveries into stored post versions.

A webhook request only verifies, validates and stores the delivery (one INSERT) and answers
202; this runs in a Celery worker. Deliveries are claimed in batches with FOR UPDATE SKIP
LOCKED, so workers share the queue, and processed in one transaction per batch: consecutive
new posts in one savepoint (bulk INSERTs), anything else in a savepoint per delivery; a worker
killed mid-way leaves its batch queued for the next drain.
The versions a batch stores are screened by one task, published after its commit.
"""
import logging

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone

from forum_helper.core.broker import broker_back_off, broker_is_backing_off, task_publish
from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake import payloads
from forum_helper.intake.models import Delivery
from forum_helper.intake.services import (
    IngestBatchLookup, NewPostRun, ingest_batch_lookup, new_posts_ingest, post_ingest, thread_upsert,
)
from forum_helper.intake.types import IncomingPost
from forum_helper.screening.services import screening_batched, screening_publish_batch

logger = logging.getLogger(__name__)

# One drain task is scheduled at a time: a request publishes one only when it sets this Redis
# flag (SET NX), and a drain clears the flag before it reads the queue. A delivery committed
# before the clear is seen by that drain; one committed after it sets the flag again and
# schedules the next drain, so no wake-up is lost and the task queue never fills with drains.
DRAIN_SCHEDULED_KEY = "forum_helper:intake-drain-scheduled"
DRAIN_SCHEDULED_TTL_SECONDS = 30  # a flag whose task was lost expires; the beat drain covers the gap
# A drain task stops after this many deliveries and schedules its successor, so screening
# tasks queued meanwhile get a worker process between batches.
DRAIN_BATCH = 200
# Deliveries claimed and committed together: fewer commits (each one a WAL flush) per post.
CLAIM_BATCH = 25
_flag_client = None


def _drain_flag_in_redis() -> bool:
    # The flag lives in the broker's Redis; with another broker every request publishes a drain.
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


def _drain_flag_client():
    global _flag_client
    if _flag_client is None:
        import redis

        _flag_client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=0.5, socket_timeout=0.5
        )
    return _flag_client


def intake_drain_schedule() -> None:
    """Make sure a drain runs soon; never fails the caller (the beat drain is the fallback)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded default: no broker, so the delivery is processed here and now.
        try:
            intake_drain()
        except Exception:  # the delivery stays queued for the next drain
            logger.exception("in-process intake drain failed; deliveries stay queued")
        return
    from forum_helper.intake.tasks import intake_drain_task

    if _drain_flag_in_redis():
        if broker_is_backing_off():
            return
        try:
            if not _drain_flag_client().set(DRAIN_SCHEDULED_KEY, 1, nx=True, ex=DRAIN_SCHEDULED_TTL_SECONDS):
                return  # a drain is already scheduled and has not started yet
        except Exception as error:  # redis-py raises several connection error types
            broker_back_off(error, "intake drain flag")
            return
    task_publish(intake_drain_task)


def intake_drain_scheduled_clear() -> None:
    if _drain_flag_in_redis():
        try:
            _drain_flag_client().delete(DRAIN_SCHEDULED_KEY)
        except Exception as error:
            broker_back_off(error, "intake drain flag")


def intake_drain(*, limit: int | None = None, outcome: str = Delivery.Outcome.QUEUED) -> int:
    """Process queued deliveries (oldest first) until none is left or `limit`; returns how many.

    `outcome=FAILED` retries failed deliveries.
    """
    processed = 0
    while limit is None or processed < limit:
        size = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - processed)
        claimed = _deliveries_process_batch(outcome=outcome, size=size)
        processed += claimed
        if claimed < size:
            break
    return processed


def _deliveries_process_batch(*, outcome: str, size: int) -> int:
    """Claim up to `size` deliveries and process them in one transaction (one commit for all);
    then one screening task for the post versions stored."""
    with screening_batched() as stored_version_ids, transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("source")
            .filter(outcome=outcome)
            .order_by("pk")[:size]
        )
        contents = [_delivery_read(delivery) for delivery in deliveries]
        lookup = ingest_batch_lookup(
            items=[(delivery.source, content) for delivery, content in zip(deliveries, contents) if isinstance(content, IncomingPost)]
        )
        _deliveries_store(deliveries, contents, lookup)
        _deliveries_save(deliveries)
    screening_publish_batch(post_version_ids=stored_version_ids)  # committed; a missed publish is left to the sweep
    return len(deliveries)


def _deliveries_store(
    deliveries: list[Delivery], contents: list[IncomingPost | payloads.ThreadUpdate | None], lookup: IngestBatchLookup
) -> None:
    """Store the batch in order: consecutive new posts together (a run), anything else alone."""
    run, run_deliveries = NewPostRun(), []
    bulk = connection.features.can_return_rows_from_bulk_insert  # the run needs the new rows' ids

    def run_flush() -> None:
        nonlocal run, run_deliveries
        if run.items:
            _run_store(run, run_deliveries, lookup)
        run, run_deliveries = NewPostRun(), []

    for delivery, content in zip(deliveries, contents):
        if content is None:
            continue  # rejected or failed while being read
        if bulk and isinstance(content, IncomingPost):
            if not run.admits(delivery.source, content, lookup):
                run_flush()  # what it depends on is stored first, as one at a time would
            if run.admits(delivery.source, content, lookup):
                run.add(delivery.source, content)
                run_deliveries.append(delivery)
                continue
        run_flush()
        _delivery_store_alone(delivery, content, lookup)
    run_flush()


def _run_store(run: NewPostRun, deliveries: list[Delivery], lookup: IngestBatchLookup) -> None:
    try:
        versions = new_posts_ingest(run=run, lookup=lookup)
    except (IntegrityError, DataError):
        # A concurrent delivery stored one of them, or one's data is refused: one at a time
        # finds which (each in its own savepoint), as if there had been no run.
        lookup.threads_forget({(source.pk, incoming.thread_external_id) for source, incoming in run.items})
        for delivery, (_source, incoming) in zip(deliveries, run.items):
            _delivery_store_alone(delivery, incoming, lookup)
        return
    for delivery, version in zip(deliveries, versions):
        _processed(delivery, outcome=Delivery.Outcome.ACCEPTED, post_version_id=version.pk)


def _delivery_store_alone(
    delivery: Delivery, content: IncomingPost | payloads.ThreadUpdate, lookup: IngestBatchLookup
) -> None:
    try:
        _delivery_store(delivery, content, lookup)  # its writes sit in a savepoint: a failing delivery undoes only its own
    except (IntegrityError, DataError) as error:
        _delivery_failed(delivery, error)  # this delivery's data, not the database: skip it
    except DatabaseError:
        raise  # the connection or transaction is lost: the batch stays queued, the task retries
    except Exception as error:
        _delivery_failed(delivery, error)


def _deliveries_save(deliveries: list[Delivery]) -> None:
    """Write the batch's outcomes, errors and version links in one UPDATE (CASE on the id).

    Plain SQL that SQLite and PostgreSQL both run: Django's bulk_update builds a When
    expression per row and field, which cost more than the rest of the drain.
    A failed delivery keeps its body; every other one is emptied (the version keeps the text).
    """
    if not deliveries:
        return
    ids = [delivery.pk for delivery in deliveries]
    by_id = ", ".join(["%s"] * len(ids))
    case = " ".join(["WHEN %s THEN %s"] * len(deliveries))
    failed = [delivery.pk for delivery in deliveries if delivery.outcome == Delivery.Outcome.FAILED] or [None]
    sql = (
        f"UPDATE {Delivery._meta.db_table} SET "
        f"outcome = CASE id {case} END, "
        f"error = CASE id {case} END, "
        f"post_version_id = CAST(CASE id {case} END AS bigint), "  # typed even when every link is NULL
        f"body = CASE WHEN id IN ({', '.join(['%s'] * len(failed))}) THEN body ELSE %s END, "
        f"processed_at = %s "
        f"WHERE id IN ({by_id})"
    )
    params: list[object] = []
    for field in ("outcome", "error", "post_version_id"):
        for delivery in deliveries:
            params += [delivery.pk, getattr(delivery, field)]
    params += [*failed, b"", connection.ops.adapt_datetimefield_value(timezone.now()), *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _delivery_failed(delivery: Delivery, error: Exception) -> None:
    # Validated on receipt, so this is a bug or a changed parser: keep the body, say why.
    logger.exception("delivery %s could not be processed", delivery.pk)
    delivery.outcome = Delivery.Outcome.FAILED
    delivery.error = f"{type(error).__name__}: {error}"[:2000]


def _delivery_read(delivery: Delivery) -> IncomingPost | payloads.ThreadUpdate | None:
    """What the stored body carries; None when the delivery was rejected or failed here (its
    outcome is set; the caller saves the row)."""
    source = delivery.source
    try:
        payload = payloads.json_body_decode(bytes(delivery.body))
        if delivery.endpoint == "standard":
            return payloads.standard_post_parse(payload=payload)
        if delivery.event in payloads.DISCOURSE_POST_EVENTS:
            return payloads.discourse_post_parse(payload=payload, instance_url=source.instance_url)
        if delivery.event == "topic_created":
            return payloads.discourse_topic_parse(payload=payload, instance_url=source.instance_url)
        raise ApplicationError(f"No processing for {delivery.endpoint} event {delivery.event!r}.")
    except ApplicationError as error:
        _processed(delivery, outcome=Delivery.Outcome.REJECTED, error=error.message)
    except Exception as error:
        _delivery_failed(delivery, error)
    return None


def _delivery_store(
    delivery: Delivery, content: IncomingPost | payloads.ThreadUpdate, lookup: IngestBatchLookup
) -> None:
    """Store what the delivery carries and set its outcome (the caller saves the row)."""
    source = delivery.source
    if isinstance(content, payloads.ThreadUpdate):
        with transaction.atomic():
            thread = thread_upsert(
                source=source, external_id=content.external_id, title=content.title, url=content.url,
                created_at=content.created_at,
            )
        lookup.thread_stored(thread)
        _processed(delivery, outcome=Delivery.Outcome.ACCEPTED)
        return
    result = post_ingest(source=source, incoming=content, lookup=lookup)  # one savepoint per attempt
    _processed(
        delivery,
        outcome=Delivery.Outcome.ACCEPTED if result.created else Delivery.Outcome.DUPLICATE,
        post_version_id=result.post_version.pk,
    )


def _processed(delivery: Delivery, *, outcome: str, error: str = "", post_version_id: int | None = None) -> None:
    delivery.outcome = outcome
    delivery.error = error
    delivery.post_version_id = post_version_id
