import json

import pytest
from django.urls import reverse

from forum_helper.core.models import AuditLog
from forum_helper.rules import services
from forum_helper.rules.models import Backtest, Rule, RuleRevision, RulesetVersion
from tests.rules.conftest import ZAPWAND_POST, ZAPWAND_RULE, stored_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def zapwand(admin_user) -> Rule:
    return services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule


def _edit(rule: Rule, **overrides) -> dict:
    form = {
        "mode": rule.mode,
        "category": rule.category or "",
        "description": rule.description,
        "data": json.dumps(rule.data),
        "reason": "tuning",
        "action": "save",
    }
    return {**form, **overrides}


def _counts() -> tuple[int, int, int]:
    return RulesetVersion.objects.count(), RuleRevision.objects.count(), AuditLog.objects.count()


@pytest.mark.parametrize(
    "name, args",
    [
        ("rules:list", []),
        ("rules:create", []),
        ("rules:detail", ["test.zapwand"]),
        ("rules:diff", ["test.zapwand"]),
    ],
)
def test_moderators_get_403_on_rules_pages(moderator_client, zapwand, name, args):
    assert moderator_client.get(reverse(name, args=args), {"a": 1, "b": 1}).status_code == 403


def test_moderators_cannot_change_rules_through_the_pages(moderator_client, zapwand):
    before = _counts()

    response = moderator_client.post(reverse("rules:detail", args=[zapwand.rule_id]), _edit(zapwand, mode="disabled"))
    rollback = moderator_client.post(reverse("rules:rollback", args=[zapwand.rule_id]), {"revision": 1, "reason": "x"})

    assert response.status_code == 403 and rollback.status_code == 403
    assert _counts() == before


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("rules:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_list_shows_every_rule_with_mode_hits_and_precision(admin_client, zapwand):
    response = admin_client.get(reverse("rules:list"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "test.zapwand" in page
    assert page.count('<tr class="mode-') == Rule.objects.count()


def test_try_it_analyses_a_pasted_post_and_escapes_it(admin_client, zapwand):
    text = "<script>alert(1)</script> " + ZAPWAND_POST

    response = admin_client.post(reverse("rules:list"), {"text": text, "author_role": "member", "thread_title": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "home_needling · test.zapwand" in page
    assert ">zapwand</mark>" in page
    assert "Risky" in page


def test_an_admin_edit_saves_a_revision_through_the_page(admin_client, zapwand):
    data = {"concept": "needling", "terms": ["zapwand", "zap-o-matic"]}

    response = admin_client.post(reverse("rules:detail", args=[zapwand.rule_id]), _edit(zapwand, data=json.dumps(data)))

    assert response.status_code == 302
    zapwand.refresh_from_db()
    assert zapwand.data == data
    assert zapwand.current_revision.number == 2
    assert AuditLog.objects.filter(action="rule.update", target_id=str(zapwand.pk)).count() == 1


@pytest.mark.parametrize("pattern", ["(?<=x)y", "("])
def test_a_bad_pattern_is_refused_on_the_page_with_the_reason_and_nothing_changes(admin_client, zapwand, pattern):
    before = _counts()
    data = json.dumps({"concept": "needling", "regex": pattern})

    response = admin_client.post(reverse("rules:detail", args=[zapwand.rule_id]), _edit(zapwand, data=data))

    assert response.status_code == 400
    assert "invalid RE2 pattern" in response.content.decode()
    assert _counts() == before
    zapwand.refresh_from_db()
    assert zapwand.data == ZAPWAND_RULE["data"]


def test_invalid_json_is_refused_and_nothing_changes(admin_client, zapwand):
    before = _counts()

    response = admin_client.post(reverse("rules:detail", args=[zapwand.rule_id]), _edit(zapwand, data="{not json"))

    assert response.status_code == 400
    assert "Not valid JSON" in response.content.decode()
    assert _counts() == before


def test_saving_without_a_reason_is_refused(admin_client, zapwand):
    before = _counts()

    response = admin_client.post(reverse("rules:detail", args=[zapwand.rule_id]), _edit(zapwand, mode="shadow", reason=""))

    assert response.status_code == 400
    assert "reason is required" in response.content.decode()
    assert _counts() == before


def test_the_detail_page_lists_history_with_diff_links_and_rollback(admin_client, zapwand, admin_user):
    services.rule_mode_set(actor=admin_user, rule=zapwand, mode="shadow", reason="watch")

    page = admin_client.get(reverse("rules:detail", args=[zapwand.rule_id])).content.decode()

    assert f"{reverse('rules:diff', args=[zapwand.rule_id])}?a=1&amp;b=2" in page
    assert "Roll back to 1" in page


def test_the_diff_page_shows_the_changed_lines(admin_client, zapwand, admin_user):
    services.rule_mode_set(actor=admin_user, rule=zapwand, mode="shadow", reason="watch")

    response = admin_client.get(reverse("rules:diff", args=[zapwand.rule_id]), {"a": 1, "b": 2})

    page = response.content.decode()
    assert '<span class="del">-  &quot;mode&quot;: &quot;active&quot;,</span>' in page
    assert '<span class="add">+  &quot;mode&quot;: &quot;shadow&quot;,</span>' in page


def test_the_diff_page_answers_404_for_a_missing_revision(admin_client, zapwand):
    assert admin_client.get(reverse("rules:diff", args=[zapwand.rule_id]), {"a": 1, "b": 7}).status_code == 404


def test_the_rollback_button_restores_a_revision(admin_client, zapwand, admin_user):
    services.rule_mode_set(actor=admin_user, rule=zapwand, mode="disabled", reason="off")

    response = admin_client.post(reverse("rules:rollback", args=[zapwand.rule_id]), {"revision": 1, "reason": "back on"})

    assert response.status_code == 302
    zapwand.refresh_from_db()
    assert zapwand.mode == "active"
    assert zapwand.current_revision.number == 3
    assert AuditLog.objects.filter(action="rule.rollback").count() == 1


def test_creating_a_rule_through_the_page(admin_client):
    response = admin_client.post(reverse("rules:create"), {"record": json.dumps(ZAPWAND_RULE), "reason": "new device"})

    assert response.status_code == 302
    assert Rule.objects.get(rule_id="test.zapwand").current_revision.number == 1


def test_backtesting_an_edit_from_the_page_shows_progress_and_result(admin_client, zapwand, source, django_capture_on_commit_callbacks):
    stored_post(source, ZAPWAND_POST)
    before = _counts()[:2]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("rules:detail", args=[zapwand.rule_id]), _edit(zapwand, mode="disabled", reason="", action="backtest")
        )

    backtest = Backtest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("rules:backtest", args=[backtest.pk])
    assert _counts()[:2] == before  # a backtest never changes the rules
    page = admin_client.get(response["Location"]).content.decode()
    assert "<progress" in page
    assert "No longer flagged" in page
    assert ">zapwand</mark>" in page
    assert "the posts whose text or thread matches the changed rule&#x27;s terms" in page  # which posts were analysed
    status = admin_client.get(reverse("rules:backtest-status", args=[backtest.pk])).json()
    assert status == {"status": "done", "processed": backtest.total, "total": backtest.total, "percent": 100, "error": "", "finished": True}


def test_moderators_get_403_on_backtest_pages(moderator_client, admin_user):
    backtest = Backtest.objects.create(params={"rule_id": "x"}, created_by=admin_user)

    assert moderator_client.get(reverse("rules:backtest", args=[backtest.pk])).status_code == 403
    assert moderator_client.get(reverse("rules:backtest-status", args=[backtest.pk])).status_code == 403
