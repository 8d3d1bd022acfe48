import logging

from celery import shared_task

from forum_helper.moderation import webhooks
from forum_helper.moderation.models import Decision

logger = logging.getLogger(__name__)


_DELIVERY = {
    "acks_late": True,  # idempotent: the receiver dedupes on webhook-id
    "autoretry_for": (webhooks.WebhookDeliveryError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


def _decision_webhook_send(decisions, build, what: str, decision_id: int) -> None:
    decision = decisions.select_related("item__post__source", "item__post__thread").filter(pk=decision_id).first()
    if decision is None:
        return
    request = build(decision=decision)
    if request is None:
        return  # the source has no outgoing webhook configured
    status = webhooks.request_send(request=request)
    if status >= 400:
        logger.warning("%s webhook %s rejected by %s with %s; not retried", what, decision_id, request.url, status)


@shared_task(**_DELIVERY)
def decision_webhook_task(decision_id: int) -> None:
    """Tell the post's forum about a decision (Standard Webhooks, signed)."""
    _decision_webhook_send(Decision.objects.all(), webhooks.decision_request, "decision", decision_id)


@shared_task(**_DELIVERY)
def decision_undone_webhook_task(decision_id: int) -> None:
    """Tell the post's forum that a decision was undone (Standard Webhooks, signed), so it can reverse it."""
    _decision_webhook_send(Decision.objects.filter(undone=True), webhooks.decision_undone_request, "undo", decision_id)
