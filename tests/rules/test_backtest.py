import pytest

from forum_helper.analysis import PostInput
from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.models import AuditLog
from forum_helper.rules import backtest, selectors, services
from forum_helper.rules.backtest import BacktestFilters, backtest_compute, change_resolve
from forum_helper.rules.models import Backtest, RuleRevision, RulesetVersion
from tests.rules.conftest import ZAPWAND_POST, ZAPWAND_RULE, dev_corpus_threads, stored_post

pytestmark = pytest.mark.django_db

WARNING_POST = "Please don't buy a zapwand. I used one once years ago and it scarred me, never again."
PLAIN_POST = "I love my new ceramide moisturiser, my skin feels great."


@pytest.fixture
def posts(source):
    return {
        "planning": stored_post(source, ZAPWAND_POST),
        "warning": stored_post(source, WARNING_POST),
        "plain": stored_post(source, PLAIN_POST),
        "plain2": stored_post(source, PLAIN_POST + " Really."),
    }


def test_a_new_rule_reports_the_posts_it_would_newly_flag(posts):
    result = backtest_compute(change=change_resolve(record=ZAPWAND_RULE))

    assert result["scanned"] == 4
    assert result["prefiltered"] is True
    assert result["analysed"] == 2  # the two posts that mention the rule's terms
    assert result["newly_flagged"] == 1
    assert result["no_longer_flagged"] == 0
    assert result["post_version_ids"]["newly_flagged"] == [posts["planning"].pk]
    sample = result["samples"]["newly_flagged"][0]
    assert sample["post_version_id"] == posts["planning"].pk
    start, end = sample["spans"][0]
    assert sample["excerpt"][start:end] == "zapwand"
    assert result["rule_hits_before"] == 0
    assert result["rule_hits_after"] >= 1


def test_disabling_a_rule_reports_the_posts_no_longer_flagged(admin_user, posts):
    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")

    result = backtest_compute(change=change_resolve(rule_id="test.zapwand", mode="disabled"))

    assert result["newly_flagged"] == 0
    assert result["no_longer_flagged"] == 1
    assert result["post_version_ids"]["no_longer_flagged"] == [posts["planning"].pk]


def test_an_unchanged_active_rule_is_compared_with_the_ruleset_without_it(admin_user, posts):
    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")

    result = backtest_compute(change=change_resolve(rule_id="test.zapwand"))

    assert result["contribution"] is True
    assert result["newly_flagged"] == 1


def test_a_shadow_rule_is_backtested_as_if_it_were_active(admin_user, posts):
    services.rule_create(actor=admin_user, record={**ZAPWAND_RULE, "mode": "shadow"}, reason="watch")

    result = backtest_compute(change=change_resolve(rule_id="test.zapwand", mode="shadow"))

    assert result["newly_flagged"] == 1


def test_a_reply_is_replayed_when_the_rule_matches_earlier_in_its_thread(source, posts):
    thread = posts["planning"].post.thread
    reply = stored_post(source, "I am going to do it every week too, how deep should I go?", thread=thread)
    stored_post(source, "Thanks, good luck with your skin!", thread=thread)  # nothing context could act on

    result = backtest_compute(change=change_resolve(record=ZAPWAND_RULE))

    assert result["analysed"] == 3
    assert result["post_version_ids"]["newly_flagged"] == [posts["planning"].pk, reply.pk]


def _first_rule(kind: str) -> str:
    """The first active rule of a kind ("kind:last" for the last one)."""
    from forum_helper.rules.models import Rule

    kind, _, which = kind.partition(":")
    rule_ids = list(Rule.objects.filter(kind=kind, mode="active").order_by("position").values_list("rule_id", flat=True))
    return rule_ids[-1] if which == "last" else rule_ids[0]


@pytest.mark.parametrize(
    "change",
    [
        {"record": ZAPWAND_RULE},
        {"rule_id": "lexicon", "mode": "disabled"},
        {"rule_id": "pattern", "mode": "disabled"},
        {"rule_id": "measure", "mode": "disabled"},
        {"rule_id": "context_cue", "mode": "disabled"},
        {"rule_id": "stance_cue", "mode": "disabled"},
        {"rule_id": "combination", "mode": "disabled"},
        {"rule_id": "combination:last", "mode": "disabled"},
    ],
    ids=[
        "new-lexicon", "disable-lexicon", "disable-pattern", "disable-measure", "disable-context-cue",
        "disable-stance-cue", "disable-combination", "disable-last-combination",
    ],
)
def test_the_prefilter_gives_the_same_deltas_as_replaying_every_post(posts, source, change):
    thread = posts["planning"].post.thread
    for text in (
        "I am going to do it every week too, how deep should I go?",
        "Thanks, good luck with your skin!",
        "Don't do it, a zapwand scarred my cousin.",
    ):
        stored_post(source, text, thread=thread)
    dev_corpus_threads(source)
    if "rule_id" in change:
        change = {**change, "rule_id": _first_rule(change["rule_id"])}

    resolved = change_resolve(**change)
    prefiltered = backtest_compute(change=resolved)
    replayed = backtest_compute(change=resolved, replay_all=True)

    assert prefiltered["prefiltered"] is True
    assert replayed["prefiltered"] is False and replayed["analysed"] == replayed["scanned"]
    assert prefiltered["analysed"] < replayed["analysed"]
    for key in ("newly_flagged", "no_longer_flagged", "severity_changes", "post_version_ids"):
        assert replayed[key] == prefiltered[key]


def test_filters_by_source_and_date(posts, source):
    from forum_helper.intake.models import ForumSource

    other = ForumSource.objects.create(slug="other", kind=ForumSource.Kind.IMPORT)
    stored_post(other, ZAPWAND_POST)
    change = change_resolve(record=ZAPWAND_RULE)

    assert backtest_compute(change=change, filters=BacktestFilters(source="other"))["scanned"] == 1
    assert backtest_compute(change=change, filters=BacktestFilters(source="other"))["newly_flagged"] == 1
    from datetime import date, timedelta

    tomorrow = date.today() + timedelta(days=1)
    assert backtest_compute(change=change, filters=BacktestFilters(since=tomorrow))["scanned"] == 0


def test_progress_is_reported_up_to_the_total(posts):
    calls = []

    backtest_compute(change=change_resolve(record=ZAPWAND_RULE), progress=lambda done, total: calls.append((done, total)))

    assert calls
    assert calls[-1][0] == calls[-1][1]


def test_precision_is_estimated_from_past_moderator_verdicts(posts, monkeypatch):
    planning = posts["planning"].pk
    monkeypatch.setattr(backtest, "post_version_verdicts", lambda post_version_ids: {planning: "confirm"})

    result = backtest_compute(change=change_resolve(record=ZAPWAND_RULE))

    assert result["precision"]["newly_flagged"] == {"confirmed": 1, "dismissed": 0, "undecided": 0, "precision": 1.0}


def test_precision_is_na_while_no_moderator_has_decided_on_the_posts(posts):
    result = backtest_compute(change=change_resolve(record=ZAPWAND_RULE))

    assert result["precision"]["precision"] == "n/a"
    assert selectors.rule_precision() == {}


def test_backtesting_an_invalid_rule_is_refused_and_changes_nothing(admin_user):
    before = (Backtest.objects.count(), RulesetVersion.objects.count(), RuleRevision.objects.count())
    broken = {**ZAPWAND_RULE, "data": {"concept": "needling", "regex": "("}}

    with pytest.raises(ApplicationError, match="invalid RE2 pattern"):
        services.backtest_create(actor=admin_user, record=broken)

    assert (Backtest.objects.count(), RulesetVersion.objects.count(), RuleRevision.objects.count()) == before


def test_a_stored_backtest_runs_after_commit_and_stores_its_result(admin_user, posts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = services.backtest_create(actor=admin_user, record=ZAPWAND_RULE)

    created.refresh_from_db()
    assert created.status == Backtest.Status.DONE
    assert created.result["newly_flagged"] == 1
    assert created.processed == created.total > 0
    assert AuditLog.objects.filter(action="backtest.create", target_id=str(created.pk)).exists()
    # A second delivery of the task finds it done and leaves it alone.
    finished_at = created.finished_at
    assert services.backtest_run(backtest_id=created.pk).finished_at == finished_at
    # Backtesting never changes the rules.
    assert RulesetVersion.objects.count() == 1


def test_precision_uses_real_moderator_decisions_when_the_model_exists(admin_user, posts):
    from forum_helper.screening.services import post_version_screen
    from tests.rules.test_selectors import _decide

    services.rule_create(actor=admin_user, record=ZAPWAND_RULE, reason="new")
    _decide(post_version_screen(post_version_id=posts["planning"].pk), "dismiss")

    result = backtest_compute(change=change_resolve(rule_id="test.zapwand", mode="disabled"))

    assert result["precision"]["no_longer_flagged"] == {"confirmed": 0, "dismissed": 1, "undecided": 0, "precision": 0.0}


def test_backtest_contexts_read_the_same_as_the_screening_context(source, posts):
    from forum_helper.analysis import analyze
    from forum_helper.intake.models import PostVersion
    from forum_helper.screening.services import post_context_build

    thread = posts["planning"].post.thread
    for text in ("I am going to do it every week too, how deep should I go?", "Thanks!", "I'm planning to try it every 3 days."):
        stored_post(source, text, thread=thread)
    unpositioned = stored_post(source, "Same here, I keep increasing the time.", thread=thread).post
    unpositioned.position = None
    unpositioned.parent = posts["planning"].post
    unpositioned.save()
    dev_corpus_threads(source)
    change = change_resolve(record=ZAPWAND_RULE)
    scanner = backtest._Scanner(change)
    scan = backtest._scan(backtest._stored_versions(BacktestFilters()), False, scanner, False, lambda: None)

    items = list(backtest._items(scan, scan.rows, scanner))

    assert len(items) == PostVersion.objects.count()
    for pv_id, text, role, context in items:
        post_version = PostVersion.objects.select_related("post__thread", "post__parent").get(pk=pv_id)
        post_input = PostInput(text=text, author_role=role)
        assert text == post_version.raw_text
        expected = analyze(post_input, post_context_build(post=post_version.post), change.proposed)
        assert analyze(post_input, context, change.proposed) == expected
