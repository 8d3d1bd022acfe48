import pytest
from django.contrib.auth.models import User

from forum_helper.intake.models import ForumSource
from forum_helper.moderation.models import QueueItem
from forum_helper.rules import services as rule_services
from forum_helper.screening.models import Finding
from forum_helper.screening.services import post_version_screen, screen_pending
from tests.rules.conftest import _fresh_ruleset_cache, ZAPWAND_POST, ZAPWAND_RULE, stored_post  # noqa: F401 - autouse fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> ForumSource:
    return ForumSource.objects.create(slug="screening-tests", kind=ForumSource.Kind.IMPORT)


@pytest.fixture
def admin() -> User:
    return User.objects.create_user(username="rules-admin", password="pw-for-tests-123")


def test_screening_twice_under_one_ruleset_version_keeps_one_finding(source: ForumSource) -> None:
    version = stored_post(source, "I will roll a 1.5mm dermaroller on my face every 3 days and put tretinoin on after.")

    first = post_version_screen(post_version_id=version.pk)
    second = post_version_screen(post_version_id=version.pk)

    assert first is not None and first.pk == second.pk
    assert Finding.objects.filter(post_version=version).count() == 1
    assert first.risky and first.ruleset_version >= 1
    assert set(first.rule_revisions) <= set(first.rule_ids) and first.rule_revisions


def test_an_older_version_is_not_screened_once_a_newer_one_exists(source: ForumSource) -> None:
    version = stored_post(source, "Which sunscreen do you like?")
    version.post.current_version = 2
    version.post.save()

    assert post_version_screen(post_version_id=version.pk) is None
    assert not Finding.objects.exists()


def test_a_shadow_rule_is_recorded_on_the_finding_without_queueing_the_post(source: ForumSource, admin: User) -> None:
    rule_services.rule_create(actor=admin, record={**ZAPWAND_RULE, "mode": "shadow"}, reason="watch the new device")
    version = stored_post(source, ZAPWAND_POST)

    finding = post_version_screen(post_version_id=version.pk)

    assert finding is not None
    assert finding.shadow_rule_ids == ["test.zapwand"]
    assert finding.shadow_result["risky"] is True
    assert finding.risky is False
    assert not QueueItem.objects.filter(post=version.post, lane=QueueItem.Lane.RISK).exists()


def test_the_same_rule_made_active_flags_the_post_and_the_finding_records_its_revision(source: ForumSource, admin: User) -> None:
    change = rule_services.rule_create(actor=admin, record=ZAPWAND_RULE, reason="new device")
    version = stored_post(source, ZAPWAND_POST)

    finding = post_version_screen(post_version_id=version.pk)

    assert finding is not None and finding.risky
    assert "test.zapwand" in finding.rule_ids
    assert finding.rule_revisions["test.zapwand"] == change.revision.pk
    assert finding.shadow_rule_ids == []


def test_the_sweep_screens_every_unscreened_latest_version(source: ForumSource) -> None:
    versions = [stored_post(source, f"Is a {n} mm dermaroller ok for my cheeks at home?") for n in (0.5, 1, 1.5)]

    pending, handled = screen_pending(enqueue=False)

    assert (pending, handled) == (3, 3)
    assert Finding.objects.filter(post_version__in=versions).count() == 3
    assert screen_pending(enqueue=False) == (0, 0)
