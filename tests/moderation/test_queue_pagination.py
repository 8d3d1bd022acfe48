"""The queue page's Next/Previous links walk the queue by keyset cursors, in the same order as page numbers."""
import re
from html import unescape

import pytest
from django.test import Client

from forum_helper.moderation import selectors
from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.services import queue_item_sync_for_finding
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch) -> int:
    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    return 3


def _ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="items" value="(\d+):', html)]


def _link(html: str, label: str) -> str | None:
    match = re.search(rf'<a href="\?([^"]+)">{label}', html)
    return unescape(match.group(1)) if match else None


@pytest.mark.parametrize("sort", ["priority", "newest", "oldest"])
def test_next_and_previous_links_walk_the_whole_queue_in_order(mod_client: Client, small_pages, sort) -> None:
    for n in range(8):
        severity = ["high", "medium", "low"][n % 3]
        queue_item_sync_for_finding(finding=finding_create(severity=severity, categories=["home_needling"] * (1 + n % 2)))
    expected = list(selectors.queue_items_list(user=None, filters=selectors.QueueFilters(sort=sort))
                    .values_list("pk", flat=True))

    pages, html = [], mod_client.get(f"/queue/?sort={sort}").content.decode()
    pages.append(_ids(html))
    while (next_query := _link(html, "Next")) is not None:
        assert "after=" in next_query and f"sort={sort}" in next_query
        html = mod_client.get(f"/queue/?{next_query}").content.decode()
        pages.append(_ids(html))
    assert [pk for page in pages for pk in page] == expected
    assert [len(page) for page in pages] == [3, 3, 2]
    assert "Page 3" in html

    back = _link(html, "← Previous")
    assert back is not None and "before=" in back
    html = mod_client.get(f"/queue/?{back}").content.decode()
    assert _ids(html) == pages[1]
    assert "Page 2" in html and _link(html, "Next") is not None
    first = _link(html, "← Previous")
    assert first is not None and "before=" not in first  # page 1 is the plain first page
    assert _ids(mod_client.get(f"/queue/?{first}").content.decode()) == pages[0]


def test_a_cursor_page_keeps_the_filters(mod_client: Client, small_pages) -> None:
    medium = [queue_item_sync_for_finding(finding=finding_create(severity="medium")).pk for _ in range(4)]
    queue_item_sync_for_finding(finding=finding_create(severity="high"))
    html = mod_client.get("/queue/?severity=medium").content.decode()
    second = mod_client.get(f"/queue/?{_link(html, 'Next')}").content.decode()
    assert sorted(_ids(html) + _ids(second)) == sorted(medium)
    assert _link(second, "Next") is None


@pytest.mark.parametrize("query", [
    "after=garbage", "before=1.2", "after=1.2.3.4", "after=-5.-7.-1", "after=99999999999999999999.1.1",
    "after=1.999999999999999999.1", "sort=newest&after=1.2.3", "before=%00", "page=999999999999999999999999",
    "page=-3&after=", "page=abc&before=5.5",
])
def test_bad_page_and_cursor_parameters_answer_a_page_not_an_error(mod_client: Client, small_pages, query) -> None:
    queue_item_sync_for_finding(finding=finding_create())
    response = mod_client.get(f"/queue/?{query}")
    assert response.status_code == 200
    assert len(_ids(response.content.decode())) <= 1


def test_an_unusable_cursor_falls_back_to_the_page_number(mod_client: Client, small_pages) -> None:
    for _ in range(4):
        queue_item_sync_for_finding(finding=finding_create())
    first = _ids(mod_client.get("/queue/").content.decode())
    assert _ids(mod_client.get("/queue/?after=not-a-cursor").content.decode()) == first
    assert len(_ids(mod_client.get("/queue/?page=2&after=nonsense").content.decode())) == 1


def test_a_cursor_after_the_last_item_gives_an_empty_last_page(mod_client: Client, small_pages) -> None:
    item = queue_item_sync_for_finding(finding=finding_create())
    item = QueueItem.objects.get(pk=item.pk)
    token = selectors.QueueCursor.of(item, "priority").token()
    html = mod_client.get(f"/queue/?page=2&after={token}").content.decode()
    assert _ids(html) == [] and "Nothing here." in html and _link(html, "Next") is None


def test_the_list_api_pages_by_cursor(moderator, small_pages) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(moderator)
    for _ in range(7):
        queue_item_sync_for_finding(finding=finding_create())
    expected = list(selectors.queue_items_list(user=moderator, filters=selectors.QueueFilters())
                    .values_list("pk", flat=True))
    seen, body = [], api.get("/api/queue/").json()
    seen += [r["id"] for r in body["results"]]
    while body["has_next"]:
        body = api.get("/api/queue/", {"after": body["next_cursor"], "page": body["page"] + 1}).json()
        seen += [r["id"] for r in body["results"]]
    assert seen == expected
    assert body["page"] == 3 and body["next_cursor"] == ""
    assert api.get("/api/queue/", {"after": "bogus"}).status_code == 200
