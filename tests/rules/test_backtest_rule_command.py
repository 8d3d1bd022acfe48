import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forum_helper.rules.models import RulesetVersion
from tests.rules.conftest import ZAPWAND_POST, ZAPWAND_RULE, stored_post

pytestmark = pytest.mark.django_db


def test_the_command_reports_the_deltas_of_a_rule_file(tmp_path, source):
    stored_post(source, ZAPWAND_POST)
    rule_file = tmp_path / "rule.json"
    rule_file.write_text(json.dumps(ZAPWAND_RULE))
    out = StringIO()

    call_command("backtest_rule", "--rule-file", str(rule_file), stdout=out, stderr=StringIO())

    report = out.getvalue()
    assert "newly flagged      1" in report
    assert "no longer flagged  0" in report
    assert "[[zapwand]]" in report
    assert "strategy matcher: analysed: the posts whose text or thread matches the changed rule's terms" in report
    assert RulesetVersion.objects.count() == 1  # read-only


def test_the_command_prints_json_on_request(tmp_path, source):
    stored_post(source, ZAPWAND_POST)
    rule_file = tmp_path / "rule.json"
    rule_file.write_text(json.dumps(ZAPWAND_RULE))
    out = StringIO()

    call_command("backtest_rule", "--rule-file", str(rule_file), "--json", "--source", source.slug, stdout=out)

    assert json.loads(out.getvalue())["newly_flagged"] == 1


def test_the_command_refuses_a_bad_pattern_with_the_reason(tmp_path):
    rule_file = tmp_path / "rule.json"
    rule_file.write_text(json.dumps({**ZAPWAND_RULE, "data": {"concept": "needling", "regex": "(?<=x)y"}}))

    with pytest.raises(CommandError, match="invalid RE2 pattern"):
        call_command("backtest_rule", "--rule-file", str(rule_file))


def test_the_command_refuses_an_unknown_rule_id():
    with pytest.raises(CommandError, match="There is no rule nope"):
        call_command("backtest_rule", "--rule-id", "nope")
