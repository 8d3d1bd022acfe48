"""The intake drain: turns queued webhook deliveries into stored post versions.

A webhook request only verifies, validates and stores the delivery (one INSERT) and answers
202; this runs in a Celery worker. Each delivery is claimed with FOR UPDATE SKIP LOCKED and
processed in its own transaction, so workers share the queue, and a worker killed mid-way
leaves its delivery queued for the next drain. Screening is enqueued by post_ingest on commit.
"""
import logging
import time

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from forum_helper.core.broker import task_publish
from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake import payloads
from forum_helper.intake.models import Delivery
from forum_helper.intake.services import post_ingest_atomic, thread_upsert

logger = logging.getLogger(__name__)

# A request publishes a drain task at most this often per process: one running drain takes
# every delivery stored meanwhile, and it lingers longer than this before it stops.
NUDGE_INTERVAL_SECONDS = 0.1
DRAIN_LINGER_SECONDS = 0.3
_last_nudge = 0.0


def intake_drain_nudge() -> None:
    """Make sure a drain runs soon; never fails the caller (the beat sweep is the fallback)."""
    global _last_nudge
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded default: no broker, so the delivery is processed here and now.
        try:
            intake_drain()
        except Exception:  # the delivery stays queued for the next drain
            logger.exception("in-process intake drain failed; deliveries stay queued")
        return
    now = time.monotonic()
    if now - _last_nudge < NUDGE_INTERVAL_SECONDS:
        return
    _last_nudge = now
    from forum_helper.intake.tasks import intake_drain_task

    task_publish(intake_drain_task)


def intake_drain(*, limit: int | None = None, linger_seconds: float = 0.0, outcome: str = Delivery.Outcome.QUEUED) -> int:
    """Process queued deliveries (oldest first) until none is left; returns how many.

    `linger_seconds`: keep polling that long after the queue runs empty, so deliveries whose
    nudge was throttled are still picked up. `outcome=FAILED` retries failed deliveries.
    """
    processed = 0
    idle_since: float | None = None
    while limit is None or processed < limit:
        if _delivery_process_next(outcome=outcome):
            processed += 1
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since >= linger_seconds:
            break
        time.sleep(0.02)
    return processed


def _delivery_process_next(*, outcome: str) -> bool:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("source")
            .filter(outcome=outcome)
            .order_by("pk")
            .first()
        )
        if delivery is None:
            return False
        try:
            _delivery_apply(delivery)
        except DatabaseError:
            raise  # the transaction is lost: the delivery stays queued and the task retries
        except Exception as error:
            # Validated on receipt, so this is a bug or a changed parser: keep the body, say why.
            logger.exception("delivery %s could not be processed", delivery.pk)
            delivery.outcome = Delivery.Outcome.FAILED
            delivery.error = f"{type(error).__name__}: {error}"[:2000]
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["outcome", "error", "post_version", "body", "processed_at"])
    return True


def _delivery_apply(delivery: Delivery) -> None:
    """Store what the delivery carries and set its outcome (the caller saves the row)."""
    source = delivery.source
    try:
        payload = payloads.json_body_decode(bytes(delivery.body))
        if delivery.endpoint == "standard":
            incoming = payloads.standard_post_parse(payload=payload)
        elif delivery.event in payloads.DISCOURSE_POST_EVENTS:
            incoming = payloads.discourse_post_parse(payload=payload, instance_url=source.instance_url)
        elif delivery.event == "topic_created":
            update = payloads.discourse_topic_parse(payload=payload, instance_url=source.instance_url)
            thread_upsert(
                source=source, external_id=update.external_id, title=update.title, url=update.url, created_at=update.created_at
            )
            _processed(delivery, outcome=Delivery.Outcome.ACCEPTED)
            return
        else:
            raise ApplicationError(f"No processing for {delivery.endpoint} event {delivery.event!r}.")
    except ApplicationError as error:
        _processed(delivery, outcome=Delivery.Outcome.REJECTED, error=error.message)
        return
    result, _ = post_ingest_atomic(source=source, incoming=incoming, then=None)
    _processed(
        delivery,
        outcome=Delivery.Outcome.ACCEPTED if result.created else Delivery.Outcome.DUPLICATE,
        post_version_id=result.post_version.pk,
    )


def _processed(delivery: Delivery, *, outcome: str, error: str = "", post_version_id: int | None = None) -> None:
    delivery.outcome = outcome
    delivery.error = error
    delivery.post_version_id = post_version_id
    delivery.body = b""
