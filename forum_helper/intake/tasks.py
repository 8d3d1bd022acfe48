from celery import shared_task
from django.db import DatabaseError

from forum_helper.intake import drain


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, retry_backoff_max=60, max_retries=8)
def intake_drain_task() -> None:
    drain.intake_drain_scheduled_clear()
    if drain.intake_drain(limit=drain.DRAIN_BATCH) == drain.DRAIN_BATCH:
        drain.intake_drain_schedule()  # more may be waiting: continue behind the queued screenings
