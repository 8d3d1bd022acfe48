import pytest

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.models import AuditLog
from forum_helper.rules import services
from forum_helper.rules.models import Rule, RuleRevision, RulesetVersion
from tests.rules.conftest import ZAPWAND_RULE

pytestmark = pytest.mark.django_db


def _state() -> tuple:
    return (
        RulesetVersion.objects.count(),
        RuleRevision.objects.count(),
        AuditLog.objects.filter(action__startswith="rule.").count(),
        sorted(Rule.objects.values_list("rule_id", "mode", "data")),
    )


def test_migrate_loads_the_default_ruleset_as_version_1_with_one_revision_per_rule():
    version = RulesetVersion.objects.get()
    assert version.number == 1
    assert Rule.objects.count() > 0
    assert RuleRevision.objects.filter(number=1, ruleset_version=version).count() == Rule.objects.count()
    assert not Rule.objects.filter(current_revision__isnull=True).exists()


def test_creating_a_rule_records_revision_1_a_new_ruleset_version_and_an_audit_row(admin_user):
    change = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new device")

    assert change.revision.number == 1
    assert change.revision.snapshot == ZAPWAND_RULE
    assert change.revision.actor == admin_user
    assert change.ruleset_version.number == 2
    assert change.rule.current_revision == change.revision
    audit = AuditLog.objects.get(action="rule.create")
    assert audit.actor == admin_user
    assert audit.target_id == str(change.rule.pk)
    assert audit.before is None
    assert audit.after["data"] == ZAPWAND_RULE["data"]
    assert audit.after["ruleset_version"] == 2
    assert audit.reason == "new device"


def test_editing_a_rule_records_before_and_after_in_the_audit_row(admin_user):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    change = services.rule_update(
        actor=admin_user, rule=rule, data={"concept": "needling", "terms": ["zapwand", "zap wand"]}, reason="spelling"
    )

    assert change.revision.number == 2
    assert change.ruleset_version.number == 3
    audit = AuditLog.objects.get(action="rule.update")
    assert audit.before["data"]["terms"] == ["zapwand"]
    assert audit.after["data"]["terms"] == ["zapwand", "zap wand"]


@pytest.mark.parametrize(
    "pattern, why",
    [
        ("(?<=x)y", "invalid RE2 pattern"),  # lookbehind: RE2 does not support it
        ("(", "invalid RE2 pattern"),
    ],
)
def test_a_pattern_re2_cannot_compile_is_refused_with_the_reason_and_nothing_changes(admin_user, pattern, why):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    before = _state()

    with pytest.raises(ApplicationError) as refused:
        services.rule_update(actor=admin_user, rule=rule, data={"concept": "needling", "regex": pattern}, reason="try")

    assert "test.zapwand" in refused.value.message
    assert why in refused.value.message
    assert _state() == before
    rule.refresh_from_db()
    assert rule.data == ZAPWAND_RULE["data"]


def test_a_too_large_rule_is_refused_and_nothing_changes(admin_user):
    before = _state()
    huge = {**ZAPWAND_RULE, "data": {"concept": "needling", "terms": [f"term{i}" for i in range(20_000)]}}

    with pytest.raises(ApplicationError, match="too large"):
        services.rule_create(actor=admin_user, record=huge, reason="big")

    assert _state() == before


def test_an_unknown_category_is_refused_and_nothing_changes(admin_user):
    before = _state()

    with pytest.raises(ApplicationError, match="unknown category"):
        services.rule_create(actor=admin_user, record={**ZAPWAND_RULE, "category": "astrology"}, reason="x")

    assert _state() == before


def test_a_disabled_rule_with_a_broken_pattern_is_still_refused(admin_user):
    before = _state()
    broken = {**ZAPWAND_RULE, "mode": "disabled", "data": {"concept": "needling", "regex": "(?<=x)y"}}

    with pytest.raises(ApplicationError, match="invalid RE2 pattern"):
        services.rule_create(actor=admin_user, record=broken, reason="parked")

    assert _state() == before


def test_a_change_without_a_reason_is_refused_and_nothing_changes(admin_user):
    before = _state()

    with pytest.raises(ApplicationError, match="reason is required"):
        services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="  ")

    assert _state() == before


def test_saving_a_rule_unchanged_writes_nothing(admin_user):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    before = _state()

    change = services.rule_update(actor=admin_user, rule=rule, data=dict(ZAPWAND_RULE["data"]), reason="same")

    assert change.revision is None
    assert _state() == before


def test_a_mode_change_is_its_own_audited_revision(admin_user):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule

    change = services.rule_mode_set(actor=admin_user, rule=rule, mode="shadow", reason="watch it first")

    assert change.revision.snapshot["mode"] == "shadow"
    assert AuditLog.objects.filter(action="rule.mode_set", target_id=str(rule.pk)).count() == 1


def test_rollback_restores_an_earlier_revision_as_a_new_revision(admin_user):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    services.rule_update(actor=admin_user, rule=rule, data={"concept": "needling", "terms": ["zapper"]}, reason="rename")

    change = services.rule_rollback(actor=admin_user, rule=rule, revision_number=1, reason="rename was wrong")

    assert change.revision.number == 3
    assert change.revision.snapshot == ZAPWAND_RULE
    assert list(rule.revisions.order_by("number").values_list("number", flat=True)) == [1, 2, 3]
    assert RuleRevision.objects.get(rule=rule, number=2).snapshot["data"]["terms"] == ["zapper"]
    rule.refresh_from_db()
    assert rule.data == ZAPWAND_RULE["data"]
    assert AuditLog.objects.filter(action="rule.rollback").count() == 1


def test_rollback_to_a_missing_revision_is_refused_and_nothing_changes(admin_user):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    before = _state()

    with pytest.raises(ApplicationError, match="no revision 9"):
        services.rule_rollback(actor=admin_user, rule=rule, revision_number=9, reason="x")

    assert _state() == before


def test_revisions_cannot_be_edited_in_place(admin_user):
    revision = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").revision
    revision.reason = "rewritten"

    with pytest.raises(ValueError, match="immutable"):
        revision.save()
