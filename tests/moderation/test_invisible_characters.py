"""Invisible and direction-control characters in post text are shown as tokens on the item page and queue rows."""
import re

import pytest
from django.test import Client

from forum_helper.moderation.services import queue_item_sync_for_finding
from forum_helper.moderation.visible_text import INVISIBLE_LABELS
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db

RLO = '<span class="invisible-char" title="U+202E RIGHT-TO-LEFT OVERRIDE">⟨RLO⟩</span>'
ZWSP = '<span class="invisible-char" title="U+200B ZERO WIDTH SPACE">⟨ZWSP⟩</span>'
PDF = '<span class="invisible-char" title="U+202C POP DIRECTIONAL FORMATTING">⟨PDF⟩</span>'
# Every character the brief names: U+202A–U+202E, U+2066–U+2069, U+200B–U+200F, U+FEFF.
NAMED = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0x200B, 0x2010), 0xFEFF]]


def _hostile_item():
    # Evidence offsets count the invisible characters, as the analysis engine's offsets do.
    text = "Plan: \u202eI will derma\u200broller 1mm\u202c weekly <b>then</b> Protopic."
    start = text.index("derma")
    end = text.index("1mm") + 3
    protopic = text.index("Protopic")
    evidence = [{"start": start, "end": end, "category": "home_needling", "rule": "needling.device"},
                {"start": protopic, "end": protopic + 8, "category": "drug_into_wounds", "rule": "drug.calcineurin"}]
    return queue_item_sync_for_finding(finding=finding_create(
        text=text, evidence=evidence, author_name="eve\u202btrusted\u202c", author_role="staff",
        author_title="nurse\u2066", thread__title="Needling \u2067help\u2069 \ufeffthread"))


def test_the_item_page_shows_invisible_characters_as_tokens_and_highlights_still_line_up(mod_client: Client) -> None:
    item = _hostile_item()
    response = mod_client.get(f"/queue/{item.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    post_text = re.search(r'<div class="post-text" id="post-text">(.*?)</div>', html, re.S).group(1)
    assert post_text == (
        f'Plan: {RLO}I will <mark class="cat-home_needling" title="needling.device">derma{ZWSP}roller 1mm</mark>'
        f'{PDF} weekly &lt;b&gt;then&lt;/b&gt; '
        '<mark class="cat-drug_into_wounds" title="drug.calcineurin">Protopic</mark>.'
    )
    assert "⟨RLE⟩" in html and "⟨LRI⟩" in html and "⟨RLI⟩" in html and "⟨PDI⟩" in html and "⟨BOM⟩" in html
    # Not one of them is left to act on the page (the draft reply drops them from the name).
    assert not [hex(ord(c)) for c in INVISIBLE_LABELS if c in html]
    assert "Hi evetrusted," in response.context["d"].suggested_reply


def test_queue_rows_show_invisible_characters_as_tokens(mod_client: Client) -> None:
    _hostile_item()
    html = mod_client.get("/queue/").content.decode()
    row = re.search(r'<tr class="queue-row.*?</tr>', html, re.S).group(0)
    assert f"Plan: {RLO}I will derma{ZWSP}roller 1mm{PDF} weekly &lt;b&gt;then&lt;/b&gt; Protopic." in row
    assert "eve<span class=\"invisible-char\" title=\"U+202B RIGHT-TO-LEFT EMBEDDING\">⟨RLE⟩</span>trusted" in row
    assert 'Needling <span class="invisible-char" title="U+2067 RIGHT-TO-LEFT ISOLATE">⟨RLI⟩</span>help' in row
    assert not [hex(ord(c)) for c in INVISIBLE_LABELS if c in html]


@pytest.mark.parametrize("char", NAMED, ids=[f"U+{ord(c):04X}" for c in NAMED])
def test_every_named_character_gets_a_titled_token(mod_client: Client, char: str) -> None:
    item = queue_item_sync_for_finding(finding=finding_create(text=f"dermaroller 1mm {char}and Protopic"))
    html = mod_client.get(f"/queue/{item.pk}/").content.decode()
    assert char not in html
    assert re.search(rf'<span class="invisible-char" title="U\+{ord(char):04X} [A-Z -]+">⟨[A-Z]+⟩</span>and Protopic', html)
