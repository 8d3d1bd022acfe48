"""The queue page's database work does not grow with the number of items it lists."""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.selectors import queue_tab_counts, queue_tab_counts_capped
from forum_helper.moderation.services import queue_item_claim, queue_item_sync_for_finding
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db


def _items(count: int) -> list[QueueItem]:
    return [queue_item_sync_for_finding(finding=finding_create()) for _ in range(count)]


def _queue_page_queries(client: Client, query: str = "") -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/queue/{query}")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_queue_page_runs_as_many_queries_for_60_items_as_for_5(mod_client: Client, moderator) -> None:
    # A claimed item on each page: its claimer is fetched with the page, in one query for all rows.
    items = _items(5)
    queue_item_claim(item_id=items[0].pk, actor=moderator)
    with_five = _queue_page_queries(mod_client)
    api_with_five = len(_captured_api(mod_client))

    more = _items(55)
    queue_item_claim(item_id=more[-1].pk, actor=moderator)  # the newest: on page 1, as items[0] is on page 2
    with_sixty = _queue_page_queries(mod_client)

    assert with_sixty == with_five
    assert len(_captured_api(mod_client)) == api_with_five
    assert _queue_page_queries(mod_client, "?page=2") == with_five


def _captured_api(client: Client) -> list:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/queue/")
    assert response.status_code == 200
    return captured.captured_queries


def test_tab_counts_stop_at_the_cap_and_say_there_are_more(mod_client: Client, moderator) -> None:
    _items(3)

    capped = queue_tab_counts_capped(user=moderator, cap=2)

    assert capped == {"open": 2, "mine": 0, "escalated": 0, "resolved": 0, "low": 0}
    assert capped["open"].more is True
    assert capped["mine"].more is False
    assert queue_tab_counts(user=moderator)["open"] == 3


def test_the_queue_page_shows_a_capped_count_with_a_plus(mod_client: Client, moderator, monkeypatch) -> None:
    monkeypatch.setattr("forum_helper.moderation.selectors.TAB_COUNT_CAP", 2)
    _items(3)

    html = mod_client.get("/queue/").content.decode()

    assert 'data-tab-count="open">2+</span>' in html
    assert 'data-tab-count="mine">0</span>' in html


def test_capped_counts_match_exact_counts_below_the_cap_for_every_tab(moderator) -> None:
    items = _items(6)
    queue_item_claim(item_id=items[0].pk, actor=moderator)
    QueueItem.objects.filter(pk=items[1].pk).update(status=QueueItem.Status.ESCALATED)
    QueueItem.objects.filter(pk=items[2].pk).update(status=QueueItem.Status.RESOLVED)
    QueueItem.objects.filter(pk=items[3].pk).update(lane=QueueItem.Lane.LOW, status=QueueItem.Status.RESOLVED)
    QueueItem.objects.filter(pk=items[4].pk).update(lane=QueueItem.Lane.LOW)

    capped = queue_tab_counts_capped(user=moderator)

    assert capped == queue_tab_counts(user=moderator) == {"open": 2, "mine": 1, "escalated": 1, "resolved": 2, "low": 1}
    assert not any(count.more for count in capped.values())


def test_a_row_shows_its_own_post_even_when_its_finding_is_on_another_post(mod_client: Client) -> None:
    first, second = _items(2)
    QueueItem.objects.filter(pk=first.pk).update(finding=second.finding)  # never done by the app; rows stay right
    page = mod_client.get("/queue/").context["page"]
    assert {item.pk: item.post.external_id for item in page.items} == {
        first.pk: first.post.external_id, second.pk: second.post.external_id}


def test_a_page_reads_the_moderators_roles_once(mod_client: Client) -> None:
    _items(3)
    with CaptureQueriesContext(connection) as captured:
        assert mod_client.get("/queue/").status_code == 200
    role_queries = [q["sql"] for q in captured.captured_queries if '"auth_group"' in q["sql"]]
    assert len(role_queries) == 1, role_queries
