import time

import pytest
from django.db import connection

from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.selectors import QueueCursor, QueueFilters, queue_items_list, queue_page, queue_tab_counts
from tests.moderation.factories import finding_create, user_create


@pytest.mark.django_db
def test_the_first_queue_page_stays_fast_and_indexed_with_100000_items():
    if connection.vendor != "postgresql":
        pytest.skip("measured on PostgreSQL (run with DATABASE_URL=postgres://...)")
    finding = finding_create()
    post = finding.post_version.post
    table, posts = QueueItem._meta.db_table, post._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {posts} (source_id, thread_id, external_id, author_name, author_external_id, author_role,"
            f" author_title, current_version, received_at, position)"
            f" SELECT %s, %s, 'bulk-' || g, 'a', 'a', 'member', '', 1, now(), 1 FROM generate_series(1, 100000) g",
            [post.source_id, post.thread_id],
        )
        cursor.execute(
            f"INSERT INTO {table} (post_id, finding_id, lane, status, priority, severity, is_staff_author, categories,"
            f" category_keys, version, edited_since_decision, created_at, updated_at)"
            f" SELECT p.id, %s, CASE WHEN p.id %% 10 = 0 THEN 'low' ELSE 'risk' END,"
            f" (ARRAY['open','claimed','escalated','resolved','resolved'])[1 + p.id %% 5], 100 + (p.id * 7919) %% 1100,"
            f" (ARRAY['high','medium','low'])[1 + p.id %% 3], false, '[]', ',home_needling,', 1, false,"
            f" now() - (p.id || ' minutes')::interval, now()"
            f" FROM {posts} p WHERE p.external_id LIKE 'bulk-%%'",
            [finding.pk],
        )
        cursor.execute(f"ANALYZE {table}")
    user = user_create("scale", "moderators")
    started = time.perf_counter()
    page = queue_page(user=user, filters=QueueFilters(), page=1)
    elapsed = time.perf_counter() - started
    assert len(page.items) == 50 and page.has_next
    counts = queue_tab_counts(user=user)
    assert counts["open"] >= 30000
    sql, params = (QueueItem.objects.filter(lane="risk", status__in=["open", "claimed"])
                   .order_by("-priority", "-created_at", "-id")[:51].query.sql_with_params())
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "queue_open_priority" in plan, plan
    # Priority order puts every high and medium item before the first low one, so a severity filter
    # needs its own partial index; in date order the planner may also read the date index and filter.
    for sort, index in (("priority", "queue_open_sev_priority"), ("newest", "queue_open_"),
                        ("oldest", "queue_open_")):
        sql, params = queue_items_list(user=user, filters=QueueFilters(severity="low", sort=sort))[:51].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan and "Sort" not in plan, plan
    deep = queue_page(user=user, filters=QueueFilters(), page=200)
    sql, params = (queue_items_list(user=user, filters=QueueFilters())
                   .filter(QueueCursor.parse(deep.next_cursor, "priority").beyond(forward=True))[:51].query.sql_with_params())
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Cond: (ROW(priority, created_at, id) <" in plan, plan  # a deep page starts at its cursor
    assert elapsed < 0.5
