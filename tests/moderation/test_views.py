import pytest
from django.test import Client

from forum_helper.core.models import AuditLog
from forum_helper.moderation.models import Decision, Note, QueueItem
from forum_helper.moderation.services import queue_item_claim, queue_item_sync_for_finding
from tests.moderation.factories import PostFactory, finding_create

pytestmark = pytest.mark.django_db

HOSTILE = ('Try a dermaroller <script>alert(1)</script> then <img src=x onerror=alert(1)> '
           'and <a href="javascript:alert(1)">click</a> Protopic')


def _item(**kwargs) -> QueueItem:
    return queue_item_sync_for_finding(finding=finding_create(**kwargs))


def test_root_redirects_to_the_queue(mod_client):
    response = mod_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/queue/"


def test_the_queue_lists_open_items_with_tab_counts(mod_client, moderator):
    first = _item()
    second = _item(severity="medium", categories=["home_needling"])
    _item(severity="low", risky=False, categories=["home_needling"])
    queue_item_claim(item_id=second.pk, actor=moderator)
    response = mod_client.get("/queue/")
    assert response.status_code == 200
    counts = {tab: count for tab, _, count, _ in response.context["tabs"]}
    assert counts == {"open": 2, "mine": 1, "escalated": 0, "resolved": 0, "low": 1}
    assert [i.pk for i in response.context["page"].items] == [first.pk, second.pk]
    low = mod_client.get("/queue/?tab=low")
    assert len(low.context["page"].items) == 1


def test_queue_filters_narrow_the_list(mod_client):
    high = _item(author_role="staff")
    medium = _item(severity="medium", categories=["uv_combination"])
    def ids(query: str) -> list[int]:
        return [i.pk for i in mod_client.get(f"/queue/?{query}").context["page"].items]
    assert ids("severity=medium") == [medium.pk]
    assert ids("category=uv_combination") == [medium.pk]
    assert ids("category=home_needling") == [high.pk]
    assert ids("staff=yes") == [high.pk]
    assert ids(f"source={high.post.source.slug}") == [high.pk]
    assert ids("sort=oldest") == [high.pk, medium.pk]
    assert ids("sort=newest") == [medium.pk, high.pk]
    assert ids("date_from=2000-01-01&date_to=2000-01-02") == []


def test_the_queue_pages_fifty_at_a_time(mod_client):
    post_items = [_item() for _ in range(51)]
    first = mod_client.get("/queue/")
    assert len(first.context["page"].items) == 50
    assert first.context["page"].has_next is True
    second = mod_client.get("/queue/?page=2")
    assert len(second.context["page"].items) == 1
    assert second.context["page"].has_next is False
    assert len(post_items) == 51


def test_the_item_page_highlights_evidence_with_a_legend_rules_and_references(mod_client):
    reference = {"category": "drug_into_wounds", "passage_id": 7, "document_id": 3, "document_title": "Protopic label",
                 "heading": "Warnings", "excerpt": "Avoid UV", "url": "https://example.org/label",
                 "dois": ["10.1000/xyz-1"], "pinned": True}
    item = _item(references=[reference])
    response = mod_client.get(f"/queue/{item.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<mark class="cat-home_needling" title="needling.device">dermaroller 1mm</mark>' in html
    assert '<mark class="cat-drug_into_wounds" title="drug.calcineurin">Protopic</mark>' in html
    assert 'class="legend"' in html
    assert "needling.device r3" in html
    assert 'href="/library/documents/3/#passage-7"' in html
    assert 'href="https://doi.org/10.1000/xyz-1"' in html
    assert "Protopic label, Warnings (https://doi.org/10.1000/xyz-1)" in response.context["d"].suggested_reply
    assert 'id="suggested-reply"' in html and 'id="copy-reply"' in html


def test_the_item_page_shows_the_thread_the_parent_and_the_authors_other_flagged_posts(mod_client):
    opener = _item(text="Opener about a dermaroller plan")
    thread = opener.post.thread
    reply_post = PostFactory(thread=thread, position=2, author_name="alice")
    reply = queue_item_sync_for_finding(finding=finding_create(post=reply_post, text="Me too, dermaroller and Protopic"))
    response = mod_client.get(f"/queue/{reply.pk}/")
    detail = response.context["d"]
    assert detail.parent["post"].pk == opener.post.pk
    assert [tp["post"].pk for tp in detail.thread_posts] == [opener.post.pk, reply_post.pk]
    assert detail.thread_posts[0]["severity"] == "high"
    assert [i.pk for i in detail.author_items] == [opener.pk]


def test_hostile_post_text_is_escaped_on_the_item_page_and_the_list(mod_client):
    item = _item(text=HOSTILE)
    item.post.author_name = "<script>alert('name')</script>"
    item.post.save()
    for url in (f"/queue/{item.pk}/", "/queue/"):
        html = mod_client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert 'href="javascript:' not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;script&gt;alert(1)&lt;/sc" in html
    item_html = mod_client.get(f"/queue/{item.pk}/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in item_html
    assert '<mark class="cat-drug_into_wounds" title="drug.calcineurin">Protopic</mark>' in item_html


def test_the_shortcuts_script_is_on_the_list_and_item_pages(mod_client, client):
    item = _item()
    for url in ("/queue/", f"/queue/{item.pk}/"):
        assert 'src="/static/forum_helper/moderation.js"' in mod_client.get(url).content.decode()
    from django.contrib.staticfiles import finders
    script = open(finders.find("forum_helper/moderation.js")).read()
    for needle in ('"j"', '"k"', '"c"', '"x"', '"d"', '"e"', '"n"', '"?"', "isTyping", "setInterval"):
        assert needle in script


def test_deciding_on_the_item_page_saves_the_decision_and_redirects(mod_client):
    item = _item()
    response = mod_client.post(f"/queue/{item.pk}/decide/",
                               {"version": 1, "kind": "confirm", "action_taken": "replied", "reason": "plan is risky"})
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.kind, decision.action_taken, decision.reason) == ("confirm", "replied", "plan is risky")


def test_a_stale_form_answers_a_409_page_naming_who_changed_the_item(mod_client, other_moderator):
    item = _item()
    queue_item_claim(item_id=item.pk, actor=other_moderator, expected_version=1)
    response = mod_client.post(f"/queue/{item.pk}/decide/", {"version": 1, "kind": "dismiss", "reason": "fine"})
    assert response.status_code == 409
    assert "mod2" in response.content.decode()
    assert Decision.objects.count() == 0


def test_losing_a_claim_race_on_the_page_shows_who_won(mod_client, other_moderator):
    item = _item()
    queue_item_claim(item_id=item.pk, actor=other_moderator)
    response = mod_client.post(f"/queue/{item.pk}/claim/", {"version": 1, "action": "claim"})
    assert response.status_code == 409
    assert "mod2 claimed this item first" in response.content.decode()


def test_a_decision_without_reason_on_the_page_writes_nothing(mod_client):
    item = _item()
    response = mod_client.post(f"/queue/{item.pk}/decide/", {"version": 1, "kind": "dismiss", "reason": ""})
    assert response.status_code == 302
    assert Decision.objects.count() == 0
    assert not AuditLog.objects.filter(action__startswith="decision").exists()


def test_claim_note_and_undo_on_the_item_page(mod_client, moderator):
    item = _item()
    assert mod_client.post(f"/queue/{item.pk}/claim/", {"version": 1, "action": "claim"}).status_code == 302
    assert mod_client.post(f"/queue/{item.pk}/notes/", {"version": 2, "text": "checking the label"}).status_code == 302
    assert mod_client.post(f"/queue/{item.pk}/decide/", {"version": 3, "kind": "dismiss", "reason": "joke"}).status_code == 302
    assert mod_client.post(f"/queue/{item.pk}/undo/", {"version": 4}).status_code == 302
    item.refresh_from_db()
    assert (item.status, item.claimed_by_id, item.version) == ("claimed", moderator.pk, 5)
    assert Note.objects.get().text == "checking the label"
    assert list(AuditLog.objects.filter(target_type="moderation.queueitem", target_id=str(item.pk)).order_by("id").values_list("action", flat=True)) == [
        "queue_item.created", "queue_item.claimed", "queue_item.note_added", "decision.dismiss", "decision.undone"]


def test_bulk_decisions_apply_to_every_checked_item_and_report_stale_ones(mod_client):
    first, second = _item(), _item()
    response = mod_client.post("/queue/", {"items": [f"{first.pk}:1", f"{second.pk}:9"], "kind": "dismiss",
                                           "reason": "spam wave"})
    assert response.status_code == 302
    assert list(Decision.objects.values_list("item_id", flat=True)) == [first.pk]
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("resolved", "open")


def test_item_page_links_to_the_next_and_previous_item_in_queue_order(mod_client):
    high = _item()
    medium = _item(severity="medium")
    response = mod_client.get(f"/queue/{high.pk}/")
    assert (response.context["previous_id"], response.context["next_id"]) == (None, medium.pk)
    response = mod_client.get(f"/queue/{medium.pk}/")
    assert (response.context["previous_id"], response.context["next_id"]) == (high.pk, None)


def test_the_dashboard_renders_svg_charts_and_rule_precision(mod_client, moderator):
    from forum_helper.moderation.services import decision_create
    item = _item()
    decision_create(item_id=item.pk, actor=moderator, kind="confirm", reason="r", action_taken="removed",
                    expected_version=1)
    other = _item()
    decision_create(item_id=other.pk, actor=moderator, kind="dismiss", reason="r", expected_version=1)
    response = mod_client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 2
    rules = {r["rule_id"]: r for r in response.context["stats"]["rules"]}
    assert rules["needling.device"] == {"rule_id": "needling.device", "hits": 2, "confirm": 1, "dismiss": 1,
                                        "escalate": 0, "precision": 0.5}
    assert response.context["stats"]["review_count"] == 2
