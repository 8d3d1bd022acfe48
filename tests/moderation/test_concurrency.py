import threading

import pytest
from django.db import connection, connections

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.models import AuditLog
from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.services import queue_item_claim, queue_item_sync_for_finding
from tests.moderation.factories import finding_create, user_create


# serialized_rollback: the flush after a transactional test empties every table; with it the
# migration rows come back and the flush skips post_migrate, whose freshly numbered content
# types would otherwise collide with the browser tests' restore of the serialized rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_claims_have_exactly_one_winner():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (run with DATABASE_URL=postgres://...)")
    item = queue_item_sync_for_finding(finding=finding_create())
    users = [user_create(f"racer{i}", "moderators") for i in range(20)]
    barrier = threading.Barrier(len(users))
    wins: list[str] = []
    losses: list[str] = []

    def claim(user) -> None:
        try:
            barrier.wait()
            queue_item_claim(item_id=item.pk, actor=user, expected_version=1)
            wins.append(user.username)
        except ApplicationError as error:
            losses.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(wins) == 1
    assert len(losses) == 19
    item = QueueItem.objects.get(pk=item.pk)
    assert (item.claimed_by.username, item.version, item.status) == (wins[0], 2, "claimed")
    assert AuditLog.objects.filter(action="queue_item.claimed").count() == 1
    assert all(message.startswith(f"{wins[0]} claimed this item first") or "changed by" in message
               for message in losses)
