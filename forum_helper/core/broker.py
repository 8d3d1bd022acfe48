"""Publishing Celery tasks from paths that must not fail: webhook requests, ingest, sweeps."""
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

# After a failed publish, callers skip the broker for this long instead of each waiting on a
# dead connection; the periodic sweeps pick up what was skipped.
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def broker_is_backing_off() -> bool:
    return time.monotonic() < _broker_down_until


def broker_back_off(error: Exception, what: str) -> None:
    global _broker_down_until
    _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
    logger.warning("broker unreachable, %s left for the sweep: %s", what, error)


def task_publish(task: Any, *args: Any) -> bool:
    """Send `task` to the broker. False when the broker is unreachable (a sweep retries later)."""
    if broker_is_backing_off():
        return False
    try:
        task.apply_async(args=list(args))
    except Exception as error:  # kombu raises several connection error types; all mean "later"
        broker_back_off(error, f"{task.name}{tuple(args)!r}")
        return False
    return True
