import threading
import time

from django.conf import settings

from forum_helper.intake.models import Delivery, ForumSource

# Every delivery looks its source up, and sources change rarely (a secret rotated, a source
# added). A process keeps each source it found for FORUM_SOURCE_CACHE_SECONDS; saving or
# deleting a source clears this process's copies at once (intake/apps.py), other processes see
# the change within that time. Unknown slugs are never cached, so a new source works at once.
_source_cache: dict[str, tuple[float, ForumSource]] = {}
_source_cache_lock = threading.Lock()


def forum_source_get(*, slug: str, cached: bool = False) -> ForumSource | None:
    ttl = settings.FORUM_SOURCE_CACHE_SECONDS if cached else 0
    now = time.monotonic()
    if ttl > 0:
        with _source_cache_lock:
            hit = _source_cache.get(slug)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
    source = ForumSource.objects.filter(slug=slug).first()
    if ttl > 0 and source is not None:
        with _source_cache_lock:
            _source_cache[slug] = (now, source)
    return source


def forum_source_cache_clear(**_signal_kwargs: object) -> None:
    with _source_cache_lock:
        _source_cache.clear()


def delivery_message_seen(*, source: ForumSource, message_id: str) -> bool:
    """True when a Standard Webhooks message id was already handled (accepted, duplicate or ignored)."""
    return (
        Delivery.objects.filter(source=source, message_id=message_id)
        .exclude(outcome=Delivery.Outcome.REJECTED)
        .exists()
    )
