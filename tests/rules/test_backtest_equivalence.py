"""Every kind of rule change: the backtest's deltas equal a full re-analysis of every stored post.

The reference reads each post the way screening does (services.post_context_build) with both
rulesets; the backtest is run through `manage.py backtest_rule --json`, so its prefilters,
in-memory thread contexts and (when forced) its forked second process are all on the path.

The tests over the crafted threads and the dev corpus (TestOverTheStoredCorpus) share one copy of
those posts, stored once for the class in a transaction rolled back after it; each test runs in its
own savepoint inside it, as every django_db test does. The reference of a change is a pure function
of those posts and rules, so it is computed once per change and compared with every command run
and forked backtest of that change.
"""
import copy
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from forum_helper.analysis import PostContext, PostInput, analyze
from forum_helper.intake.models import ForumSource, PostVersion, Thread
from forum_helper.rules import backtest
from forum_helper.rules.backtest import BacktestFilters, change_resolve
from forum_helper.rules.models import Rule
from forum_helper.screening.services import post_context_build
from tests.rules.conftest import ZAPWAND_POST, ZAPWAND_RULE, dev_corpus_threads, stored_post

pytestmark = pytest.mark.django_db


# Threads written to reach the corners of context: a warning under a mention (a low-severity post
# naming nothing), a reply that takes up the thread's practice through a context cue, a quote,
# a staff author, posts without a position, an explicit parent, texts repeated across threads.
THREADS: list[tuple[str, list[str | dict[str, Any]]]] = [
    ("zapwand plans", [ZAPWAND_POST, "Please don't, it's dangerous.", "I am going to do it every week too, how deep should I go?", "Thanks, good luck with your skin!"]),
    ("Home UVB for vitiligo", ["I've been doing 30 seconds of home UVB on my vitiligo patches every other day.", "Same here, I keep increasing the time.", "Please don't increase it without a derm, you risk burns."]),
    ("Needling after tretinoin?", ["I dermarolled last night with a 1mm roller.", "Can I put tretinoin on right after?", "No. Wait at least a week.", {"text": "> Can I put tretinoin on right after?\nYes, it absorbs better, go for it.", "role": "staff"}]),
    ("Skin talk", ["Sunscreen every day is the one thing that actually made a difference for me.", "Does anyone know if niacinamide and vitamin C can be used together?", "Never again, I'm not going to microneedle at home.", "Careful, that's risky."]),
    ("Accutane and peels", ["I stopped accutane 2 months ago, planning a TCA peel at home this weekend.", "Don't, wait six months.", {"text": "Me too, I'm gonna do it as well.", "position": None}]),
    ("Occlusion", ["After needling I put vaseline and cling film over my face overnight.", {"text": "I do the same, it helps a lot.", "parent": 0}]),
]

RULE_EDITS: dict[str, Any] = {
    "new-lexicon": lambda: {"record": ZAPWAND_RULE},
    "lexicon-term": lambda: {"record": _edited("needling.device", terms=_data("needling.device")["terms"] + ["zapwand"])},
    "pattern-edit": lambda: {"record": _edited("needling.needle_verb", regex=_data("needling.needle_verb")["regex"] + r"|\bpoked\s+(?:it|them|my)\b")},
    "disable-pattern": lambda: {"rule_id": "uv.sun_dosed", "mode": "disabled"},
    "disable-measure": lambda: {"rule_id": "schedule.every_n_days", "mode": "disabled"},
    "stance-cue-edit": lambda: {"record": _edited("planning.intent_words", regex=_data("planning.intent_words")["regex"] + r"|\bkeep\s+increasing\b")},
    "stance-weight": lambda: {"record": _edited("warning.risk_word", weight=2.0)},
    "disable-warning-cue": lambda: {"rule_id": "warning.dont", "mode": "disabled"},
    "negation-scope": lambda: {"record": _edited("negation.cues", scope_chars=5)},
    "person-cue-edit": lambda: {"record": _edited("person.first", regex=r"\b(?:i|i'm|im|my|me)\b")},
    "disable-context-cue": lambda: {"rule_id": "context.agreement", "mode": "disabled"},
    "combination-edit": lambda: {"record": _edited("combo.occlusion_of_wounds", any=_data("combo.occlusion_of_wounds")["any"] + ["friction"])},
    "combination-window": lambda: {"record": _edited("combo.drug_into_wounds", window=0)},
    "disable-combination": lambda: {"rule_id": "combo.drug_into_wounds", "mode": "disabled"},
    "disable-derived-combination": lambda: {"rule_id": "iso.recent", "mode": "disabled"},
    "severity-edit": lambda: {"record": _edited("severity.injury_plus_uv_or_drug", severity="medium")},
    "severity-staff": lambda: {"record": _edited("severity.staff_recommending", author_roles=["staff", "member"])},
    "disable-severity": lambda: {"rule_id": "severity.cell_transfer", "mode": "disabled"},
    "explanation-edit": lambda: {"record": _edited("explanation.home_needling", text="Home needling.")},
    "shadow-mode": lambda: {"rule_id": "warning.psa", "mode": "shadow"},
}


def _data(rule_id: str) -> dict[str, Any]:
    return dict(Rule.objects.get(rule_id=rule_id).data)


def _edited(rule_id: str, **changes: Any) -> dict[str, Any]:
    record = Rule.objects.get(rule_id=rule_id).as_record()
    record["data"] = {**record["data"], **changes}
    return record


def _store_threads(source) -> None:
    for number, (title, posts) in enumerate(THREADS):
        thread = Thread.objects.create(source=source, external_id=f"crafted{number}", title=title)
        stored: list[PostVersion] = []
        for item in posts:
            item = {"text": item} if isinstance(item, str) else item
            version = stored_post(source, item["text"], thread=thread)
            post = version.post
            if "position" in item:
                post.position = item["position"]
            if "role" in item:
                post.author_role = item["role"]
            if "parent" in item:
                post.parent = stored[item["parent"]].post
            post.save()
            stored.append(version)


def _reference_inputs(filters: BacktestFilters = BacktestFilters()) -> list[tuple[int, PostInput, PostContext]]:
    """Every covered post version as screening reads it: its text, author role and context."""
    versions = backtest._stored_versions(filters).select_related("post__thread", "post__parent").order_by("pk")
    return [
        (version.pk, PostInput(text=version.raw_text, author_role=version.post.author_role), post_context_build(post=version.post))
        for version in versions
    ]


def _reference(
    change_args: dict[str, Any],
    filters: BacktestFilters = BacktestFilters(),
    inputs: list[tuple[int, PostInput, PostContext]] | None = None,
) -> dict[str, Any]:
    """A full re-analysis: every covered post, read with screening's context, under both rulesets."""
    change = change_resolve(**change_args)
    ids: dict[str, list[int]] = {"newly_flagged": [], "no_longer_flagged": [], "severity_changed": [], "rule_hits": []}
    severity: Counter = Counter()
    hits = [0, 0]
    for pk, post_input, context in _reference_inputs(filters) if inputs is None else inputs:
        before = analyze(post_input, context, change.baseline)
        after = analyze(post_input, context, change.proposed)
        hits[0] += change.changed_id in before.rule_ids
        hits[1] += change.changed_id in after.rule_ids
        if after.risky and not before.risky:
            ids["newly_flagged"].append(pk)
        elif before.risky and not after.risky:
            ids["no_longer_flagged"].append(pk)
        elif before.severity != after.severity:
            severity[f"{before.severity}->{after.severity}"] += 1
            ids["severity_changed"].append(pk)
        elif change.changed_id in after.rule_ids and after.risky:
            ids["rule_hits"].append(pk)
    return {
        "newly_flagged": len(ids["newly_flagged"]),
        "no_longer_flagged": len(ids["no_longer_flagged"]),
        "severity_changes": dict(sorted(severity.items())),
        "rule_hits_before": hits[0],
        "rule_hits_after": hits[1],
        "post_version_ids": {key: value for key, value in ids.items() if value},
    }


def _command(tmp_path, change_args: dict[str, Any], *extra: str) -> dict[str, Any]:
    if "record" in change_args:
        rule_file = tmp_path / "rule.json"
        rule_file.write_text(json.dumps(change_args["record"]))
        args = ["--rule-file", str(rule_file)]
    else:
        args = ["--rule-id", change_args["rule_id"], "--mode", change_args["mode"]]
    out = StringIO()
    call_command("backtest_rule", *args, *extra, "--json", stdout=out)
    return json.loads(out.getvalue())


def _deltas(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("newly_flagged", "no_longer_flagged", "severity_changes", "rule_hits_before", "rule_hits_after", "post_version_ids")
    return {key: result[key] for key in keys}


def test_a_warning_under_a_mention_is_replayed_when_the_thread_changes(tmp_path, source):
    # The reply names nothing itself: its severity (none -> low) comes from the thread alone.
    thread = stored_post(source, ZAPWAND_POST).post.thread
    reply = stored_post(source, "Please don't, it's dangerous.", thread=thread)

    result = _command(tmp_path, {"record": ZAPWAND_RULE})

    assert result["severity_changes"] == {"none->low": 1}
    assert reply.pk in result["post_version_ids"]["severity_changed"]


def test_a_reply_in_the_date_range_reads_the_thread_before_it(tmp_path, source):
    opener = stored_post(source, ZAPWAND_POST)
    reply = stored_post(source, "Same here, I keep increasing the time.", thread=opener.post.thread)
    PostVersion.objects.filter(pk=opener.pk).update(received_at=timezone.now() - timedelta(days=30))
    since = (timezone.now() - timedelta(days=1)).date()

    result = _command(tmp_path, {"record": ZAPWAND_RULE}, "--since", since.isoformat())

    assert result["scanned"] == 1
    assert _deltas(result) == _reference({"record": ZAPWAND_RULE}, BacktestFilters(since=since))
    assert result["post_version_ids"]["newly_flagged"] == [reply.pk]


@pytest.mark.parametrize("kind", ["disable-combination", "severity-edit"])
def test_a_short_answer_that_endorses_its_parents_plan_is_replayed(tmp_path, source, kind):
    # "Yes. Twice a week." names only a schedule and has no context cue: it endorses the drug
    # and the needling of the question it answers, so the combination fires on it.
    parent = stored_post(source, "Should I put tretinoin on right after needling?")
    reply = stored_post(source, "Yes. Twice a week.", thread=parent.post.thread)
    change_args = RULE_EDITS[kind]()

    result = _command(tmp_path, change_args)

    assert _deltas(result) == _reference(change_args)
    assert reply.pk in result["post_version_ids"]["severity_changed"]


class StoredCorpus:
    """The crafted threads and the dev corpus as stored posts, and the reference of each change
    over them (computed on first use: the posts and rules are the same in every test of the class)."""

    def __init__(self) -> None:
        self._inputs: list[tuple[int, PostInput, PostContext]] | None = None
        self._references: dict[str, dict[str, Any]] = {}

    def reference(self, change_args: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(change_args, sort_keys=True)
        if key not in self._references:
            if self._inputs is None:
                self._inputs = _reference_inputs()
            self._references[key] = _reference(change_args, inputs=self._inputs)
        return copy.deepcopy(self._references[key])


@pytest.fixture(scope="class")
def stored(django_db_setup, django_db_blocker) -> Iterator[StoredCorpus]:
    """The posts, stored once for the class: a transaction around the class's tests, rolled back
    after the last; each test's own transaction (a savepoint inside it) is rolled back as usual."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            source = ForumSource.objects.create(slug="skinboard", kind=ForumSource.Kind.IMPORT)
            _store_threads(source)
            dev_corpus_threads(source, with_author_roles=True)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield StoredCorpus()
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


class TestOverTheStoredCorpus:
    @pytest.mark.parametrize("kind", sorted(RULE_EDITS))
    def test_the_backtest_gives_the_deltas_of_a_full_reanalysis(self, tmp_path, stored, kind):
        change_args = RULE_EDITS[kind]()

        result = _command(tmp_path, change_args)

        assert _deltas(result) == stored.reference(change_args)
        assert result["strategy"] != "replay"
        assert result["analysed"] < result["scanned"]

    def test_the_reference_sees_changes_for_most_kinds(self, stored):
        # Guards the comparison above against passing because nothing ever changes.
        changed = [kind for kind, args in RULE_EDITS.items() if set(stored.reference(args())["post_version_ids"]) - {"rule_hits"}]

        assert len(changed) >= 8, changed

    @pytest.mark.parametrize("kind", ["disable-combination", "person-cue-edit", "severity-edit"])
    def test_the_forked_second_process_gives_the_same_deltas(self, tmp_path, stored, monkeypatch, kind):
        monkeypatch.setattr(backtest, "PARALLEL_MIN_POSTS", 2)
        calls: list[tuple[int, int]] = []
        change_args = RULE_EDITS[kind]()
        change = change_resolve(**change_args)

        forked = backtest.backtest_compute(change=change, progress=lambda done, total: calls.append((done, total)))
        serial = backtest.backtest_compute(change=change, parallel=False)

        assert _deltas(forked) == _deltas(serial) == stored.reference(change_args)
        assert forked["samples"] == serial["samples"]
        assert calls[-1][0] == calls[-1][1]
        assert all(done <= total for done, total in calls)

    def test_an_explanation_change_analyses_nothing(self, tmp_path, stored):
        result = _command(tmp_path, RULE_EDITS["explanation-edit"]())

        assert result["strategy"] == "no_verdict_change"
        assert result["analysed"] == 0 and result["scanned"] > 0
        assert (result["newly_flagged"], result["no_longer_flagged"], result["severity_changes"]) == (0, 0, {})


# --- tightened prefilters: posts the change flips, and near misses -------------------------------

FIRST_PERSON = r"\bmeself\b"


def _person_first_plus(extra: str) -> dict[str, Any]:
    return {"record": _edited("person.first", regex=_data("person.first")["regex"] + "|" + extra)}


_thread_numbers = itertools.count(1)


def _stored_thread(source, title: str, texts: list[str]) -> list[PostVersion]:
    thread = Thread.objects.create(source=source, external_id=f"thread{next(_thread_numbers)}", title=title)
    return [stored_post(source, text, thread=thread) for text in texts]


@pytest.fixture
def person_posts(source) -> dict[str, PostVersion]:
    """Posts around the made-up first-person word "meself": a skin type needs the first person in
    its sentence to count (a modifier: severity none -> low), so "meself" in that sentence flips
    the post; elsewhere it changes the person signal of a sentence that decides nothing."""
    posts = {
        "flips": stored_post(source, "Meself is Fitzpatrick type V, any tips for dark spots?"),
        "flips_mid_text": stored_post(source, "Quick question. Meself is Fitzpatrick type V, any tips for dark spots?"),
        "other_sentence": stored_post(source, "Fitzpatrick type V skin here. Asking for meself."),
        "already_first_person": stored_post(source, "Meself, I am Fitzpatrick type V, any tips?"),
        "stance_only": stored_post(source, "Should meself roll 1mm weekly?"),
        "no_skin_type": stored_post(source, "Meself likes sunscreen."),
        "quoted": stored_post(source, '> Meself is Fitzpatrick type V\nNice, any tips for dark spots?'),
    }
    opener, reply = _stored_thread(source, "Dark skin", ["Meself is Fitzpatrick type V. Any tips for dark spots?", "Same here, any tips?"])
    posts["opener"], posts["reply"] = opener, reply
    dev_corpus_threads(source)
    return posts


@pytest.mark.parametrize("extra", [FIRST_PERSON, r"^\s*meself\b"])
def test_a_person_cue_extension_replays_the_windows_it_changes(tmp_path, person_posts, extra):
    change_args = _person_first_plus(extra)

    result = _command(tmp_path, change_args)

    assert _deltas(result) == _reference(change_args)
    flipped = set(result["post_version_ids"].get("severity_changed", []))
    assert {person_posts["flips"].pk, person_posts["flips_mid_text"].pk, person_posts["opener"].pk} <= flipped
    assert person_posts["other_sentence"].pk not in flipped
    # Only texts with "meself" in a window (and posts that read them) can change.
    assert result["analysed"] <= 10


def test_a_person_cue_losing_alternatives_replays_the_windows_it_changes(tmp_path, person_posts):
    rule = Rule.objects.get(rule_id="person.first")
    rule.data = {**rule.data, "regex": rule.data["regex"] + "|" + FIRST_PERSON}
    rule.save()
    change_args = {"record": _edited("person.first", regex=rule.data["regex"][: -len("|" + FIRST_PERSON)])}

    result = _command(tmp_path, change_args)

    assert _deltas(result) == _reference(change_args)
    assert person_posts["flips"].pk in result["post_version_ids"]["severity_changed"]
    assert result["analysed"] <= 10


def test_a_person_cue_edit_of_another_shape_still_replays_what_it_may_change(tmp_path, person_posts):
    # Not an added or removed alternative: every text matching either side is a candidate.
    change_args = {"record": _edited("person.first", regex=r"\b(?:i|meself)\b")}

    result = _command(tmp_path, change_args)

    assert _deltas(result) == _reference(change_args)
    assert person_posts["flips"].pk in result["post_version_ids"]["severity_changed"]


# A thread whose only mention is a drug ("vitamin C"): drug counts as a mention only through
# combo.drug_into_wounds, so disabling it turns a warning under that thread from low to none.
DRUG_QUESTION = "Does anyone know if niacinamide and vitamin C can be used together in the morning?"
WARNING_REPLIES = {
    "dont_mid_text": "Interesting question. Don't.",  # a cue anchored at a sentence's start
    "no_mid_text": "Thanks for asking. No. Just no.",
    "sarcasm": "You will love it, what could possibly go wrong /s",  # sarcasm, no warning cue
    "sarcasm_and_cue": "Sure, you'll be totally fine /s",
    "plain": "Please don't, it's dangerous.",
}
NOT_WARNING_REPLIES = {
    "outweighed": "Patch test first, I learned the hard way with a new serum last year.",  # a warning cue that loses
    "none": "Thanks, good luck with your skin!",
}


@pytest.fixture
def drug_thread(source) -> dict[str, PostVersion]:
    texts = [DRUG_QUESTION, *WARNING_REPLIES.values(), *NOT_WARNING_REPLIES.values()]
    posts = dict(zip(["question", *WARNING_REPLIES, *NOT_WARNING_REPLIES], _stored_thread(source, "Skin talk", texts)))
    # The same warnings where the thread also names a practice: a mention either way, no change.
    _stored_thread(source, "Skin talk", ["I dermarolled last night, can I use vitamin C now?", *WARNING_REPLIES.values()])
    dev_corpus_threads(source)
    return posts


def test_disabling_a_combination_replays_warnings_under_a_mention_it_takes_away(tmp_path, drug_thread):
    change_args = RULE_EDITS["disable-combination"]()

    result = _command(tmp_path, change_args)

    assert _deltas(result) == _reference(change_args)
    changed = set(result["post_version_ids"].get("severity_changed", []))
    assert {drug_thread[name].pk for name in WARNING_REPLIES} <= changed
    assert not {drug_thread[name].pk for name in NOT_WARNING_REPLIES} & changed
    # The combination fired on none of them: a prefilter keeping only posts where it fired misses them.
    assert result["rule_hits_before"] < result["analysed"]


def test_disabling_a_combination_skips_warning_cues_that_cannot_win(tmp_path, source):
    # Mostly a thread like the benchmark's: a drug mention, replies whose warning cue is outweighed.
    for number in range(5):
        _stored_thread(source, f"Skin talk {number}", [DRUG_QUESTION, NOT_WARNING_REPLIES["outweighed"], NOT_WARNING_REPLIES["none"]])
    change_args = RULE_EDITS["disable-combination"]()

    result = _command(tmp_path, change_args)

    assert _deltas(result) == _reference(change_args)
    assert result["analysed"] == 0


@pytest.mark.parametrize("change_args", [{"rule_id": "needling.device", "mode": "disabled"}, {"record": "severity-edit"}])
def test_a_short_answer_reads_a_parent_that_names_nothing(tmp_path, source, change_args):
    # "Yes. Twice a week." answers "Should I do it?" under a title naming a dermaroller: the
    # parent names no concept, but its question is what makes the answer endorse the title.
    opener, reply = _stored_thread(source, "Dermaroller tonight", ["Should I do it?", "Yes. Twice a week."])
    if change_args.get("record") == "severity-edit":
        change_args = RULE_EDITS["severity-edit"]()

    result = _command(tmp_path, change_args)

    assert _deltas(result) == _reference(change_args)
    if change_args.get("rule_id") == "needling.device":
        assert reply.pk in result["post_version_ids"]["no_longer_flagged"]
