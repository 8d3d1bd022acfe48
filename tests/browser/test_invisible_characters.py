"""A right-to-left override in a post cannot reverse the item page: it shows as a token (issue 5)."""
import re

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips/fails with the reason
    expect = None


def test_a_right_to_left_override_is_shown_and_does_not_reorder_the_post(live_server, page, artifacts):
    from forum_helper.moderation.services import queue_item_sync_for_finding
    from tests.conftest import TEST_PASSWORD
    from tests.moderation.factories import finding_create, user_create

    user_create("rtl-mod", "moderators")
    # Without the token, U+202E would draw "dermaroller 1mm ... Protopic" right to left.
    item = queue_item_sync_for_finding(finding=finding_create(text="Note \u202edermaroller 1mm then Protopic tonight"))
    login(page, live_server.url, "rtl-mod", TEST_PASSWORD)
    page.goto(f"{live_server.url}/queue/{item.pk}/")
    token = page.locator("#post-text .invisible-char")
    expect(token).to_have_text("⟨RLO⟩")
    expect(token).to_have_attribute("title", "U+202E RIGHT-TO-LEFT OVERRIDE")
    expect(token).to_be_visible()
    needling = page.locator("#post-text mark.cat-home_needling").bounding_box()
    drug = page.locator("#post-text mark.cat-drug_into_wounds").bounding_box()
    marker = token.bounding_box()
    assert marker and needling and drug
    assert marker["x"] < needling["x"] < drug["x"], (marker, needling, drug)  # still left to right
    page.screenshot(path=str(artifacts / "invisible-characters-item.png"), full_page=False)

    page.goto(f"{live_server.url}/queue/")
    row = page.locator(f'tr.queue-row:has(a[href^="/queue/{item.pk}/"]) .excerpt')
    expect(row.locator(".invisible-char")).to_have_text("⟨RLO⟩")
    assert re.search(r"⟨RLO⟩dermaroller 1mm then Protopic", row.inner_text())
    assert page.js_errors == []
