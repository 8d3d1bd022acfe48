import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from forum_helper.core.models import AuditLog
from forum_helper.rules import services
from forum_helper.rules.models import Backtest, Rule, RuleRevision, RulesetVersion
from tests.rules.conftest import ZAPWAND_POST, ZAPWAND_RULE, stored_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def moderator_api(moderator_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(moderator_user)
    return client


@pytest.fixture
def zapwand(admin_user) -> Rule:
    return services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule


def _counts() -> tuple[int, int, int]:
    return RulesetVersion.objects.count(), RuleRevision.objects.count(), AuditLog.objects.count()


def test_moderators_get_403_on_every_rules_endpoint(moderator_api, zapwand):
    before = _counts()
    responses = [
        moderator_api.get(reverse("rules:api-rules")),
        moderator_api.post(reverse("rules:api-rules"), {"rule": ZAPWAND_RULE, "reason": "x"}, format="json"),
        moderator_api.get(reverse("rules:api-rule", args=["test.zapwand"])),
        moderator_api.patch(reverse("rules:api-rule", args=["test.zapwand"]), {"mode": "disabled", "reason": "x"}, format="json"),
        moderator_api.get(reverse("rules:api-rule-revisions", args=["test.zapwand"])),
        moderator_api.post(reverse("rules:api-backtests"), {"rule_id": "test.zapwand"}, format="json"),
    ]

    assert [r.status_code for r in responses] == [403] * len(responses)
    assert _counts() == before
    assert not Backtest.objects.exists()


def test_the_list_and_detail_show_rules_with_their_revision(api, zapwand):
    listed = api.get(reverse("rules:api-rules")).json()
    detail = api.get(reverse("rules:api-rule", args=["test.zapwand"])).json()

    assert len(listed) == Rule.objects.count()
    assert detail["rule_id"] == "test.zapwand"
    assert detail["data"] == ZAPWAND_RULE["data"]
    assert detail["revision"] == 1


def test_patch_records_a_new_revision(api, zapwand):
    response = api.patch(
        reverse("rules:api-rule", args=["test.zapwand"]), {"mode": "shadow", "reason": "watch it"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["mode"] == "shadow"
    assert response.json()["revision"] == 2
    revisions = api.get(reverse("rules:api-rule-revisions", args=["test.zapwand"])).json()
    assert [(r["number"], r["ruleset_version"], r["reason"]) for r in revisions] == [(2, 3, "watch it"), (1, 2, "new")]
    assert AuditLog.objects.filter(action="rule.mode_set").count() == 1


@pytest.mark.parametrize("pattern", ["(?<=x)y", "("])
def test_a_bad_pattern_is_refused_with_the_reason_and_nothing_changes(api, zapwand, pattern):
    before = _counts()

    response = api.patch(
        reverse("rules:api-rule", args=["test.zapwand"]),
        {"data": {"concept": "needling", "regex": pattern}, "reason": "try"},
        format="json",
    )

    assert response.status_code == 400
    assert "invalid RE2 pattern" in response.json()["message"]
    assert response.json()["extra"] == {"rule_id": "test.zapwand"}
    assert _counts() == before


def test_patch_without_a_reason_is_refused(api, zapwand):
    before = _counts()

    response = api.patch(reverse("rules:api-rule", args=["test.zapwand"]), {"mode": "disabled"}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["extra"]["fields"]
    assert _counts() == before


def test_an_unknown_rule_answers_404(api):
    assert api.get(reverse("rules:api-rule", args=["no.such.rule"])).status_code == 404


def test_creating_a_rule(api):
    response = api.post(reverse("rules:api-rules"), {"rule": ZAPWAND_RULE, "reason": "new device"}, format="json")

    assert response.status_code == 201
    assert response.json()["revision"] == 1


def test_a_backtest_is_created_run_and_readable(api, zapwand, source, django_capture_on_commit_callbacks):
    stored_post(source, ZAPWAND_POST)

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(reverse("rules:api-backtests"), {"rule_id": "test.zapwand", "mode": "disabled"}, format="json")

    assert created.status_code == 201
    detail = api.get(reverse("rules:api-backtest", args=[created.json()["id"]])).json()
    assert detail["status"] == "done"
    assert detail["progress_percent"] == 100
    assert detail["result"]["no_longer_flagged"] == 1


def test_a_backtest_needs_a_rule(api):
    response = api.post(reverse("rules:api-backtests"), {"mode": "active"}, format="json")

    assert response.status_code == 400
    assert not Backtest.objects.exists()


def test_the_schema_documents_the_rules_api(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert "/rules/api/rules/{rule_id}/" in schema["paths"]
    assert "/rules/api/backtests/" in schema["paths"]
