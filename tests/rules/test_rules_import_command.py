import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forum_helper.analysis import load_ruleset_document
from forum_helper.core.models import AuditLog
from forum_helper.rules.models import Rule, RuleRevision, RulesetVersion
from tests.rules.conftest import ZAPWAND_RULE

pytestmark = pytest.mark.django_db


def _write(tmp_path, rules):
    path = tmp_path / "ruleset.json"
    path.write_text(json.dumps({"version": 1, "rules": rules}))
    return str(path)


def test_importing_the_unchanged_default_ruleset_changes_nothing():
    out = StringIO()

    call_command("rules_import", "--reason", "sync", stdout=out)

    assert "nothing changed" in out.getvalue()
    assert RulesetVersion.objects.count() == 1


def test_an_import_creates_and_changes_rules_as_one_version_with_audit_rows(tmp_path):
    rules = load_ruleset_document()["rules"]
    first = {**rules[0], "description": "reworded"}
    path = _write(tmp_path, [first, *rules[1:], ZAPWAND_RULE])

    call_command("rules_import", "--file", path, "--reason", "engine update", stdout=StringIO())

    version = RulesetVersion.objects.get(number=2)
    assert set(version.revisions.values_list("rule__rule_id", flat=True)) == {first["id"], "test.zapwand"}
    assert Rule.objects.get(rule_id=first["id"]).description == "reworded"
    assert AuditLog.objects.filter(action="rule.import").count() == 2


def test_an_import_with_a_bad_pattern_is_refused_and_nothing_changes(tmp_path):
    path = _write(tmp_path, [{**ZAPWAND_RULE, "data": {"concept": "needling", "regex": "(?<=x)y"}}])
    before = (RulesetVersion.objects.count(), RuleRevision.objects.count(), AuditLog.objects.count())

    with pytest.raises(CommandError, match="invalid RE2 pattern"):
        call_command("rules_import", "--file", path, "--reason", "bad")

    assert (RulesetVersion.objects.count(), RuleRevision.objects.count(), AuditLog.objects.count()) == before


def test_a_dry_run_rolls_back(tmp_path):
    path = _write(tmp_path, [ZAPWAND_RULE])
    out = StringIO()

    call_command("rules_import", "--file", path, "--reason", "try", "--dry-run", stdout=out)

    assert "changes found" in out.getvalue()
    assert not Rule.objects.filter(rule_id="test.zapwand").exists()
