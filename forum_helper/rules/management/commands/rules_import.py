"""Apply a ruleset file (default: fixtures/analysis/default_ruleset.json) to the rules in the
database as one new ruleset version, e.g. after the detector's default rules were improved.

    manage.py rules_import --reason "engine update: new UV terms" [--file path.json] [--dry-run]
"""
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from forum_helper.analysis import DEFAULT_RULESET_PATH
from forum_helper.core.exceptions import ApplicationError
from forum_helper.rules.services import ruleset_import


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Create or update rules from a ruleset JSON file as one new ruleset version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEFAULT_RULESET_PATH)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--dry-run", action="store_true", help="Check and report, then roll back.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = json.loads(options["file"].read_text(encoding="utf-8"))
            records = document["rules"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(f"Cannot read rules from {options['file']}: {error}") from None
        try:
            with transaction.atomic():
                version = ruleset_import(actor=None, records=records, reason=options["reason"])
                if options["dry_run"]:
                    raise _DryRun
        except _DryRun:
            self.stdout.write(f"dry run: {'changes found' if version else 'nothing to change'}; rolled back")
            return
        except ApplicationError as error:
            raise CommandError(error.message) from None
        if version is None:
            self.stdout.write("Rules already match the file; nothing changed.")
        else:
            self.stdout.write(f"Ruleset v{version.number}: {version.revisions.count()} rule(s) created or changed.")
