import time

import pytest

from forum_helper.analysis import PostContext, PostInput, analyze, load_default_rules
from forum_helper.rules import selectors, services
from forum_helper.rules.models import Rule, RuleRevision, RulesetVersion
from forum_helper.screening.services import post_version_screen
from tests.rules.conftest import ZAPWAND_POST, ZAPWAND_RULE, stored_post

pytestmark = pytest.mark.django_db


def test_the_active_ruleset_is_the_latest_version_with_each_rules_revision_id():
    ruleset = selectors.ruleset_active()

    assert ruleset.version == 1
    assert ruleset.rule_revisions
    some_rule_id, revision_id = next(iter(ruleset.rule_revisions.items()))
    assert selectors.rule_get(rule_id=some_rule_id).current_revision_id == revision_id


def test_the_active_ruleset_is_cached_until_a_new_version_exists(admin_user):
    first = selectors.ruleset_active()
    assert selectors.ruleset_active() is first

    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")

    second = selectors.ruleset_active()
    assert second is not first
    assert second.version == 2
    assert "test.zapwand" in second.rule_revisions


def test_shadow_and_disabled_rules_are_not_in_the_active_ruleset(admin_user):
    services.rule_create(actor=admin_user, record={**ZAPWAND_RULE, "mode": "shadow"}, reason="watch")

    assert "test.zapwand" not in selectors.ruleset_active().rule_revisions
    shadow = selectors.ruleset_shadow()
    assert "test.zapwand" in shadow.rule_revisions
    assert shadow.shadow_rule_ids == frozenset({"test.zapwand"})


def test_a_new_revision_changes_the_next_screening_and_the_finding_records_version_and_revision(admin_user, source):
    first_post = stored_post(source, ZAPWAND_POST)
    before = post_version_screen(post_version_id=first_post.pk)
    assert before.ruleset_version == 1
    assert "test.zapwand" not in before.rule_ids
    assert before.risky is False

    change = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new device")
    second_post = stored_post(source, ZAPWAND_POST)
    after = post_version_screen(post_version_id=second_post.pk)

    assert after.ruleset_version == change.ruleset_version.number == 2
    assert after.risky is True
    assert "test.zapwand" in after.rule_ids
    assert after.rule_revisions["test.zapwand"] == change.revision.pk
    # Re-screening the first post under the new version is a new finding; the old one stays.
    rescreened = post_version_screen(post_version_id=first_post.pk)
    assert rescreened.pk != before.pk and rescreened.ruleset_version == 2 and rescreened.risky is True


def test_rollback_changes_the_next_screening_back(admin_user, source):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    services.rule_update(actor=admin_user, rule=rule, data={"concept": "needling", "terms": ["zapper"]}, reason="rename")
    post = stored_post(source, ZAPWAND_POST)
    assert "test.zapwand" not in post_version_screen(post_version_id=post.pk).rule_ids

    change = services.rule_rollback(actor=admin_user, rule=rule, revision_number=1, reason="undo")
    finding = post_version_screen(post_version_id=post.pk)

    assert finding.ruleset_version == change.ruleset_version.number == 4
    assert finding.rule_revisions["test.zapwand"] == change.revision.pk


def _best_of_three(fn) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time(admin_user):
    record = {**ZAPWAND_RULE, "kind": "pattern", "data": {"concept": "needling", "regex": "(a+)+$"}}
    services.rule_create(actor=admin_user, record=record, reason="evil pattern")
    compiled = selectors.ruleset_active().compiled
    context = PostContext()

    def run(length: int) -> None:
        analyze(PostInput(text="a" * length + "b"), context, compiled)

    small = _best_of_three(lambda: run(5_000))
    big = _best_of_three(lambda: run(50_000))

    # 10x the input: a linear matcher takes ~10x the time; a backtracking one would never end
    # (Python's `re` needs 2**50000 steps here). 30x leaves room for timer noise.
    assert big < 30 * small + 0.05


def test_the_diff_of_two_revisions_is_a_unified_diff_of_the_records(admin_user):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    services.rule_update(actor=admin_user, rule=rule, mode="shadow", reason="watch")

    diff = selectors.rule_revision_diff(rule=rule, a=1, b=2)

    assert diff.startswith("--- test.zapwand rev 1\n+++ test.zapwand rev 2\n")
    assert '-  "mode": "active",\n' in diff
    assert '+  "mode": "shadow",\n' in diff
    assert selectors.rule_revision_diff(rule=rule, a=2, b=2) == ""


def test_the_diff_of_two_ruleset_versions_lists_only_the_rules_that_changed(admin_user):
    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")

    diff = selectors.ruleset_version_diff(a=1, b=2)

    assert diff.startswith("--- /dev/null\n+++ test.zapwand @ v2\n")
    assert diff.count("+++ ") == 1


def test_the_ruleset_at_an_earlier_version_does_not_see_later_revisions(admin_user):
    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")

    at_1 = {entry.record["id"] for entry in selectors.ruleset_entries_at(number=1)}
    at_2 = {entry.record["id"] for entry in selectors.ruleset_entries_at(number=2)}

    assert at_2 - at_1 == {"test.zapwand"}


def test_shadow_result_records_what_a_shadow_rule_would_flag(admin_user):
    services.rule_create(actor=admin_user, record={**ZAPWAND_RULE, "mode": "shadow"}, reason="watch")
    post_input, context = PostInput(text=ZAPWAND_POST), PostContext()
    active = analyze(post_input, context, selectors.ruleset_active().compiled)

    shadow_rule_ids, shadow_result = selectors.shadow_result_for(post_input, context, active)

    assert active.risky is False
    assert shadow_rule_ids == ["test.zapwand"]
    assert shadow_result["risky"] is True
    assert shadow_result["differs_from_active"] is True


def test_shadow_result_is_empty_without_shadow_rules():
    post_input, context = PostInput(text=ZAPWAND_POST), PostContext()
    active = analyze(post_input, context, selectors.ruleset_active().compiled)

    assert selectors.shadow_result_for(post_input, context, active) == ([], None)


def test_rule_hits_count_distinct_post_versions_per_day(admin_user, source):
    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")
    for _ in range(2):
        post_version_screen(post_version_id=stored_post(source, ZAPWAND_POST).pk)

    assert selectors.rule_hit_counts()["test.zapwand"].hits == 2
    days = selectors.rule_hits_by_day(rule_id="test.zapwand", days=7)
    assert len(days) == 7
    assert days[-1][1] == 2
    assert sum(count for _, count in days) == 2


def test_versions_are_numbered_one_after_another(admin_user):
    rule = services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new").rule
    services.rule_mode_set(actor=admin_user, rule=rule, mode="disabled", reason="off")

    assert list(RulesetVersion.objects.order_by("number").values_list("number", flat=True)) == [1, 2, 3]


def _decide(finding, kind: str, *, undone: bool = False):
    from forum_helper.moderation.models import Decision, QueueItem

    item = QueueItem.objects.filter(post=finding.post_version.post).first() or QueueItem.objects.create(
        post=finding.post_version.post, finding=finding, severity=finding.severity
    )
    return Decision.objects.create(item=item, finding=finding, kind=kind, reason="test", undone=undone)


def test_rule_precision_counts_the_latest_standing_confirm_and_dismiss_per_finding(admin_user, source):
    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")
    confirmed, dismissed, undone = (
        post_version_screen(post_version_id=stored_post(source, ZAPWAND_POST).pk) for _ in range(3)
    )
    _decide(confirmed, "confirm")
    _decide(dismissed, "dismiss")
    _decide(undone, "dismiss", undone=True)
    _decide(undone, "escalate")

    precision = selectors.rule_precision()["test.zapwand"]

    assert (precision.confirmed, precision.dismissed, precision.precision) == (1, 1, 0.5)


def test_shadow_result_uses_the_shadow_rules_of_the_version_the_active_analysis_ran_under(admin_user):
    rule = services.rule_create(actor=admin_user, record={**ZAPWAND_RULE, "mode": "shadow"}, reason="watch").rule
    post_input, context = PostInput(text=ZAPWAND_POST), PostContext()
    active_v2 = analyze(post_input, context, selectors.ruleset_active().compiled)
    services.rule_mode_set(actor=admin_user, rule=rule, mode="disabled", reason="off")  # v3: no shadow rules

    assert selectors.shadow_result_for(post_input, context, active_v2)[0] == ["test.zapwand"]
    active_v3 = analyze(post_input, context, selectors.ruleset_active().compiled)
    assert selectors.shadow_result_for(post_input, context, active_v3) == ([], None)


def test_a_database_with_no_ruleset_loads_the_default_rules_on_first_use():
    # What a flush leaves: no rules at all (the migration's rows are gone).
    Rule.objects.update(current_revision=None)
    RuleRevision.objects.all().delete()
    Rule.objects.all().delete()
    RulesetVersion.objects.all().delete()
    selectors.ruleset_cache_clear()

    ruleset = selectors.ruleset_active()

    assert RulesetVersion.objects.count() == 1
    assert ruleset.version == 1
    assert len(ruleset.rule_revisions) == len([r for r in load_default_rules() if r["mode"] == "active"])
