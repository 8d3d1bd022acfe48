from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError

from forum_helper.screening import services

# Redelivered when a worker dies (acks_late); retried with backoff while the database is away.
_SCREENING = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError, DatabaseError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(**_SCREENING)
def screen_post_version_task(post_version_id: int) -> None:
    services.post_version_screen(post_version_id=post_version_id)


@shared_task(**_SCREENING)
def screen_post_versions_task(post_version_ids: list[int]) -> None:
    """A batch from the intake drain; a retry or redelivery skips versions already screened."""
    services.post_versions_screen(post_version_ids=post_version_ids)


@shared_task
def screen_pending_task() -> None:
    services.screen_pending(enqueue=True)
