"""Hostile post text, delivered through the signed Discourse webhook, screened, then shown to a moderator.

Screening runs eagerly once the delivery commits (django_capture_on_commit_callbacks executes it); the
queue and the item page must answer 200, escape everything the post carried and stay a sane size.
"""
import copy
import json

import pytest
from django.test import Client

from forum_helper.intake.models import Post
from forum_helper.moderation.models import QueueItem
from tests.intake.conftest import discourse_headers, fixture_json
from tests.moderation.factories import user_create

pytestmark = pytest.mark.django_db

# Each post carries a risky plan (so screening queues it) and one hostile payload.
PLAN = "I will dermaroller 1mm weekly then put my Protopic on right after. "
HOSTILE = {
    "script": PLAN + "<script>alert('x')</script><SCRIPT src=//evil.example/x.js></SCRIPT>",
    "event_handler": PLAN + '<img src=x onerror="alert(1)"><a href="#" onmouseover=alert(2)>hover</a>',
    "javascript_link": PLAN + '<a href="javascript:alert(3)">click</a> [md](javascript:alert(4))',
    "long_word": PLAN + "a" * 100_000,
    "rtl_override": PLAN + "\u202egnp.exe\u202c \u2066isolate\u2069 \u200f\u200e \u061c",
}
# What the posts carry, as it would appear if it reached the HTML unescaped (the page's own <script src=...>
# tag is not the post's).
UNESCAPED = ["<script>alert", "<SCRIPT src=//evil", "<img src=x", 'onerror="alert', "onmouseover=alert(2)>", 'href="javascript:',
             "href=javascript:", "\"javascript:"]


def deliver(client: Client, text: str, post_id: int, capture, *, cooked: bool = True) -> int:
    payload = copy.deepcopy(fixture_json("discourse", "post_created__member_reply.json"))
    payload["post"].update({"id": post_id, "raw": text, "cooked": f"<p>{text}</p>" if cooked else "<p></p>"})
    body = json.dumps(payload, ensure_ascii=False).encode()
    with capture(execute=True):
        response = client.post("/webhooks/discourse/glow/", data=body, content_type="application/json",
                               headers=discourse_headers(body, "post_created", event_id=str(post_id)))
    return response.status_code


@pytest.fixture
def moderator_client(db: None) -> Client:
    client = Client()
    client.force_login(user_create("hostile-mod", "moderators"))
    return client


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_post_text_is_escaped_on_the_queue_and_item_pages(
    kind: str, discourse_source, moderator_client: Client, django_capture_on_commit_callbacks
) -> None:
    status = deliver(Client(), HOSTILE[kind], 9100, django_capture_on_commit_callbacks)
    assert status in (200, 202)
    post = Post.objects.get(external_id="9100")
    assert post.current_version == 1

    queue = moderator_client.get("/queue/")
    assert queue.status_code == 200
    pages = [queue.content.decode()]
    item = QueueItem.objects.filter(post=post).first()
    if item is not None:
        page = moderator_client.get(f"/queue/{item.pk}/")
        assert page.status_code == 200
        pages.append(page.content.decode())
    for html in pages:
        for needle in UNESCAPED:
            assert needle not in html, f"{kind}: unescaped {needle!r} in a moderator page"
        assert len(html) < 1_000_000, f"{kind}: page of {len(html)} chars"


def test_a_megabyte_of_emoji_just_under_the_limit_is_accepted_and_shown(
    discourse_source, moderator_client: Client, django_capture_on_commit_callbacks
) -> None:
    emoji = "\U0001f9f4"  # 4 bytes in UTF-8
    text = PLAN + emoji * ((1024 * 1024 - 4000) // 4)
    status = deliver(Client(), text, 9200, django_capture_on_commit_callbacks, cooked=False)
    assert status in (200, 202)
    queue = moderator_client.get("/queue/")
    assert queue.status_code == 200
    item = QueueItem.objects.filter(post__external_id="9200").first()
    if item is not None:
        page = moderator_client.get(f"/queue/{item.pk}/")
        assert page.status_code == 200
        assert len(page.content) < 8 * 1024 * 1024


def test_a_body_just_over_one_mebibyte_is_413_and_nothing_is_stored(discourse_source) -> None:
    text = PLAN + "\U0001f9f4" * (1024 * 1024 // 4 + 10)
    payload = fixture_json("discourse", "post_created__member_reply.json")
    payload["post"].update({"id": 9300, "raw": text})
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert len(body) > 1024 * 1024
    response = Client().post("/webhooks/discourse/glow/", data=body, content_type="application/json",
                             headers=discourse_headers(body, "post_created", event_id="9300"))
    assert response.status_code == 413
    assert response.json()["message"]
    assert not Post.objects.filter(external_id="9300").exists()
