"""Load fixtures/analysis/default_ruleset.json as ruleset version 1, so analysis works right after migrate.

The JSON file is read directly (not through forum_helper.analysis) so this migration keeps
working however the detector's code changes later.
"""
import json
from pathlib import Path

from django.db import migrations

DEFAULT_RULESET = Path(__file__).resolve().parents[3] / "fixtures" / "analysis" / "default_ruleset.json"
REASON = "Initial rules loaded from fixtures/analysis/default_ruleset.json"


def load_default_ruleset(apps, schema_editor):
    Rule = apps.get_model("rules", "Rule")
    RuleRevision = apps.get_model("rules", "RuleRevision")
    RulesetVersion = apps.get_model("rules", "RulesetVersion")
    AuditLog = apps.get_model("core", "AuditLog")
    if RulesetVersion.objects.exists():
        return
    payload = json.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
    version = RulesetVersion.objects.create(number=int(payload.get("version", 1)), summary=REASON)
    for position, record in enumerate(payload["rules"], start=1):
        snapshot = {
            "id": record["id"],
            "kind": record["kind"],
            "category": record.get("category"),
            "mode": record.get("mode", "active"),
            "description": record.get("description", ""),
            "data": record.get("data", {}),
        }
        rule = Rule.objects.create(
            rule_id=snapshot["id"],
            kind=snapshot["kind"],
            category=snapshot["category"],
            mode=snapshot["mode"],
            description=snapshot["description"],
            data=snapshot["data"],
            position=position,
        )
        revision = RuleRevision.objects.create(
            rule=rule, number=1, snapshot=snapshot, reason=REASON, ruleset_version=version
        )
        rule.current_revision = revision
        rule.save(update_fields=["current_revision"])
    AuditLog.objects.create(
        action="ruleset.load_default",
        target_type="rules.rulesetversion",
        target_id=str(version.pk),
        after={"version": version.number, "rules": len(payload["rules"])},
        reason=REASON,
    )


def unload(apps, schema_editor):
    Rule = apps.get_model("rules", "Rule")
    Rule.objects.update(current_revision=None)
    apps.get_model("rules", "RuleRevision").objects.all().delete()
    Rule.objects.all().delete()
    apps.get_model("rules", "RulesetVersion").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
        ("core", "0002_groups"),
    ]

    operations = [migrations.RunPython(load_default_ruleset, unload)]
