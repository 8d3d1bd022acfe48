import pytest

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.models import AuditLog
from forum_helper.intake.models import AuthorRole
from forum_helper.moderation.models import Decision, QueueItem
from forum_helper.moderation.services import (
    StaleVersionError,
    decision_create,
    decision_undo,
    note_create,
    queue_item_claim,
    queue_item_sync_for_finding,
    queue_item_unclaim,
)
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db


def _queue_audit():
    return AuditLog.objects.filter(target_type="moderation.queueitem")


def test_a_risky_finding_creates_one_open_item_with_priority_and_an_audit_row():
    finding = finding_create(author_role=AuthorRole.STAFF)
    item = queue_item_sync_for_finding(finding=finding)
    assert item is not None
    item.refresh_from_db()
    assert (item.status, item.lane, item.severity, item.version) == ("open", "risk", "high", 1)
    assert item.is_staff_author is True
    # high 1000 + staff 50 + fresh post 30 + 2 categories * 5
    assert item.priority == 1090
    assert item.category_keys == ",home_needling,drug_into_wounds,"
    assert AuditLog.objects.filter(action="queue_item.created", target_id=str(item.pk)).count() == 1


def test_a_finding_of_severity_none_creates_no_item():
    finding = finding_create(severity="none", risky=False, categories=[], evidence=[], rule_ids=[])
    assert queue_item_sync_for_finding(finding=finding) is None
    assert QueueItem.objects.count() == 0
    assert not _queue_audit().exists()


def test_a_low_non_risky_finding_goes_to_the_low_context_lane():
    finding = finding_create(severity="low", risky=False, categories=["home_needling"])
    item = queue_item_sync_for_finding(finding=finding)
    assert item.lane == "low"
    assert item.priority == 100 + 30 + 5


def test_syncing_the_same_finding_twice_changes_nothing():
    finding = finding_create()
    item = queue_item_sync_for_finding(finding=finding)
    again = queue_item_sync_for_finding(finding=finding)
    assert again.pk == item.pk
    again.refresh_from_db()
    assert again.version == 1
    assert _queue_audit().count() == 1


def test_a_new_post_version_updates_the_same_item_reopens_it_and_marks_it_edited(moderator):
    first = finding_create()
    item = queue_item_sync_for_finding(finding=first)
    decision_create(item_id=item.pk, actor=moderator, kind="dismiss", reason="joke", expected_version=1)
    post = first.post_version.post
    second = finding_create(post=post, text="Now using a 1.5mm dermaroller daily", severity="medium",
                            categories=["home_needling"])
    updated = queue_item_sync_for_finding(finding=second)
    updated.refresh_from_db()
    assert updated.pk == item.pk
    assert QueueItem.objects.count() == 1
    assert (updated.status, updated.edited_since_decision, updated.finding_id) == ("open", True, second.pk)
    assert updated.severity == "medium"
    assert AuditLog.objects.filter(action="queue_item.reopened").count() == 1


def test_a_second_claim_fails_with_the_name_of_who_claimed_first(moderator, other_moderator):
    item = queue_item_sync_for_finding(finding=finding_create())
    queue_item_claim(item_id=item.pk, actor=moderator, expected_version=1)
    with pytest.raises(ApplicationError) as error:
        queue_item_claim(item_id=item.pk, actor=other_moderator, expected_version=None)
    assert error.value.status == 409
    assert "mod claimed this item first" in error.value.message
    item.refresh_from_db()
    assert (item.status, item.claimed_by_id, item.version) == ("claimed", moderator.pk, 2)
    assert AuditLog.objects.filter(action="queue_item.claimed").count() == 1


def test_unclaim_gives_the_item_back_to_the_queue(moderator):
    item = queue_item_sync_for_finding(finding=finding_create())
    queue_item_claim(item_id=item.pk, actor=moderator, expected_version=1)
    queue_item_unclaim(item_id=item.pk, actor=moderator, expected_version=2)
    item.refresh_from_db()
    assert (item.status, item.claimed_by_id, item.version) == ("open", None, 3)


def test_a_stale_version_is_refused_and_nothing_is_written(moderator, other_moderator):
    item = queue_item_sync_for_finding(finding=finding_create())
    note_create(item_id=item.pk, actor=other_moderator, text="looking", expected_version=1)
    audit_rows = _queue_audit().count()
    with pytest.raises(StaleVersionError) as error:
        decision_create(item_id=item.pk, actor=moderator, kind="dismiss", reason="fine", expected_version=1)
    assert error.value.status == 409
    assert "mod2" in error.value.message
    assert Decision.objects.count() == 0
    assert _queue_audit().count() == audit_rows


def test_confirm_resolves_the_item_records_the_finding_and_audits_with_the_reason(moderator):
    finding = finding_create()
    item = queue_item_sync_for_finding(finding=finding)
    decision = decision_create(item_id=item.pk, actor=moderator, kind="confirm", reason="dangerous plan",
                               action_taken="removed", expected_version=1)
    item.refresh_from_db()
    assert (decision.finding_id, decision.kind, decision.action_taken, decision.undone) == (finding.pk, "confirm", "removed", False)
    assert (item.status, item.version) == ("resolved", 2)
    assert item.first_reviewed_at is not None
    audit = AuditLog.objects.get(action="decision.confirm")
    assert (audit.actor_id, audit.reason, audit.before["status"], audit.after["status"]) == (
        moderator.pk, "dangerous plan", "open", "resolved")


def test_a_decision_without_a_reason_or_confirm_without_action_is_refused(moderator):
    item = queue_item_sync_for_finding(finding=finding_create())
    with pytest.raises(ApplicationError, match="reason is required"):
        decision_create(item_id=item.pk, actor=moderator, kind="dismiss", reason="  ", expected_version=1)
    with pytest.raises(ApplicationError, match="action taken"):
        decision_create(item_id=item.pk, actor=moderator, kind="confirm", reason="bad", expected_version=1)
    assert Decision.objects.count() == 0


def test_escalate_then_undo_restores_the_previous_state(moderator):
    item = queue_item_sync_for_finding(finding=finding_create())
    queue_item_claim(item_id=item.pk, actor=moderator, expected_version=1)
    decision = decision_create(item_id=item.pk, actor=moderator, kind="escalate", reason="ask a dermatologist",
                               expected_version=2)
    item.refresh_from_db()
    assert item.status == "escalated"
    decision_undo(item_id=item.pk, actor=moderator, expected_version=3)
    item.refresh_from_db()
    decision.refresh_from_db()
    assert decision.undone is True
    assert (item.status, item.claimed_by_id, item.version) == ("claimed", moderator.pk, 4)
    assert AuditLog.objects.filter(action="decision.undone", actor=moderator).count() == 1


def test_only_the_decider_or_an_admin_can_undo(moderator, other_moderator, admin_user):
    item = queue_item_sync_for_finding(finding=finding_create())
    decision_create(item_id=item.pk, actor=moderator, kind="dismiss", reason="ok", expected_version=1)
    with pytest.raises(ApplicationError) as error:
        decision_undo(item_id=item.pk, actor=other_moderator, expected_version=2)
    assert error.value.status == 403
    decision_undo(item_id=item.pk, actor=admin_user, expected_version=2)
    assert Decision.objects.get().undone is True


def test_a_decision_on_an_item_claimed_by_someone_else_is_refused(moderator, other_moderator):
    item = queue_item_sync_for_finding(finding=finding_create())
    queue_item_claim(item_id=item.pk, actor=moderator, expected_version=1)
    with pytest.raises(ApplicationError, match="mod has claimed"):
        decision_create(item_id=item.pk, actor=other_moderator, kind="dismiss", reason="x", expected_version=2)
    assert Decision.objects.count() == 0
