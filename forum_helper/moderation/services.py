from forum_helper.screening.models import Finding


def queue_item_sync_for_finding(*, finding: Finding) -> None:
    """Create, update or re-open the queue item of the finding's post. (Placeholder until the queue exists.)"""
    return None
