from forum_helper.intake.models import Delivery, ForumSource


def forum_source_get(*, slug: str) -> ForumSource | None:
    return ForumSource.objects.filter(slug=slug).first()


def delivery_message_seen(*, source: ForumSource, message_id: str) -> bool:
    """True when a Standard Webhooks message id was already handled (accepted, duplicate or ignored)."""
    return (
        Delivery.objects.filter(source=source, message_id=message_id)
        .exclude(outcome=Delivery.Outcome.REJECTED)
        .exists()
    )
