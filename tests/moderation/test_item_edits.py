"""An edited post's item page shows what changed since the previous screened version."""
import re

import pytest
from django.test import Client

from forum_helper.moderation import text_diff
from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.services import queue_item_sync_for_finding
from tests.moderation.factories import PostFactory, finding_create, version_add

pytestmark = pytest.mark.django_db

V1 = "I will dermaroller 1mm weekly then put my Protopic on right after."
V2 = "I will dermaroller 2mm daily then put my Protopic on right after and use my UVB lamp."


def _edit_section(html: str) -> str:
    match = re.search(r'<section class="post-edit" id="post-edit">(.*?)</section>', html, re.S)
    assert match, "no edit section on the page"
    return match.group(1)


def _edited_item(v1: str = V1, v2: str = V2, *, categories_after: list[str] | None = None) -> QueueItem:
    first = finding_create(text=v1, categories=["home_needling", "drug_into_wounds"])
    item = queue_item_sync_for_finding(finding=first)
    queue_item_sync_for_finding(finding=finding_create(
        post=first.post_version.post, text=v2,
        categories=["home_needling", "uv_combination"] if categories_after is None else categories_after))
    return QueueItem.objects.get(pk=item.pk)


def test_the_item_page_of_an_edited_post_shows_a_word_diff_and_the_category_changes(mod_client: Client) -> None:
    item = _edited_item()
    response = mod_client.get(f"/queue/{item.pk}/")
    assert response.status_code == 200
    section = _edit_section(response.content.decode())
    assert "Edited: version 1 → 2" in section
    diff = re.search(r'<div class="post-text diff" id="post-diff">(.*?)</div>', section, re.S).group(1)
    assert diff == ('I will dermaroller <del class="diff-del">1mm</del><ins class="diff-ins">2mm</ins> '
                    '<del class="diff-del">weekly</del><ins class="diff-ins">daily</ins>'
                    ' then put my Protopic on right after<ins class="diff-ins"> and use my UVB lamp</ins>.')
    assert re.search(r'class="chip cat-uv_combination category-added" title="appeared">\+ UV combination<', section)
    assert re.search(r'class="chip cat-drug_into_wounds category-removed" title="disappeared">− Drug into wounds<', section)
    assert "Home needling" not in section  # present in both versions: not a change
    # The highlighted text below is the current version.
    assert "dermaroller 2mm" in response.content.decode().split('id="post-text"')[1]


def test_an_unedited_post_has_no_edit_section(mod_client: Client) -> None:
    item = queue_item_sync_for_finding(finding=finding_create())
    html = mod_client.get(f"/queue/{item.pk}/").content.decode()
    assert 'id="post-edit"' not in html


def test_hostile_text_in_an_edit_is_escaped_in_the_diff(mod_client: Client) -> None:
    hostile = V1 + ' <script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & done'
    item = _edited_item(v2=hostile, categories_after=["home_needling", "drug_into_wounds"])
    html = mod_client.get(f"/queue/{item.pk}/").content.decode()
    section = _edit_section(html)
    assert "<script>" not in html and "<img" not in html
    assert ('<ins class="diff-ins"> &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; '
            '&quot;quoted&quot; &amp; done</ins>') in section
    assert '<span class="muted">unchanged</span>' in section


def test_an_edit_that_only_adds_invisible_characters_shows_them_as_inserted_tokens(mod_client: Client) -> None:
    item = _edited_item(v2=V1.replace("Protopic", "Proto\u200bpic\u202e"), categories_after=["home_needling"])
    section = _edit_section(mod_client.get(f"/queue/{item.pk}/").content.decode())
    # The word looks the same to a reader; the diff shows it changed, and why.
    assert ('<del class="diff-del">Protopic</del><ins class="diff-ins">Proto<span class="invisible-char"'
            ' title="U+200B ZERO WIDTH SPACE">⟨ZWSP⟩</span>pic<span class="invisible-char"'
            ' title="U+202E RIGHT-TO-LEFT OVERRIDE">⟨RLO⟩</span></ins> on right after.') in section
    assert "⟨RLO⟩" in section and "\u202e" not in section and "\u200b" not in section


def test_a_newer_unscreened_version_is_diffed_but_its_categories_are_not_known_yet(mod_client: Client) -> None:
    first = finding_create(text=V1)
    item = queue_item_sync_for_finding(finding=first)
    version_add(first.post_version.post, V1 + " Edited again.")
    section = _edit_section(mod_client.get(f"/queue/{item.pk}/").content.decode())
    assert "Edited: version 1 → 2" in section
    assert "on right after.<ins class=\"diff-ins\"> Edited again.</ins>" in section
    assert "not screened yet" in section


def test_the_diff_compares_with_the_newest_screened_version(mod_client: Client) -> None:
    post = PostFactory()
    queue_item_sync_for_finding(finding=finding_create(post=post, text="one two three dermaroller"))
    version_add(post, "one two three four dermaroller")  # replaced before screening reached it
    item = queue_item_sync_for_finding(finding=finding_create(post=post, text="one two five dermaroller"))
    section = _edit_section(mod_client.get(f"/queue/{item.pk}/").content.decode())
    assert "Edited: version 1 → 3" in section
    assert '<del class="diff-del">three</del><ins class="diff-ins">five</ins>' in section


def test_a_huge_edit_falls_back_to_one_deletion_and_one_insertion(mod_client: Client, monkeypatch) -> None:
    monkeypatch.setattr(text_diff, "MAX_DIFF_TOKENS", 10)
    before = "start " + " ".join(f"w{n}" for n in range(50)) + " end"
    after = "start " + " ".join(f"v{n}" for n in range(50)) + " end"
    item = _edited_item(v1=before, v2=after)
    response = mod_client.get(f"/queue/{item.pk}/")
    assert response.status_code == 200
    section = _edit_section(response.content.decode())
    assert section.count('<del class="diff-del">') == 1 and section.count('<ins class="diff-ins">') == 1
    assert "start <del" in section and "</ins> end" in section
