"""Backtest a proposed rule change over stored posts and print the report.

    manage.py backtest_rule --rule-file rule.json [--mode shadow] [--since 2025-01-01] [--source slug]
    manage.py backtest_rule --rule-id needling.device --mode disabled
"""
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.progress import ProgressBar
from forum_helper.rules.backtest import BacktestFilters, backtest_compute, change_resolve
from forum_helper.rules.models import RuleMode


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = "Compare the current ruleset with the ruleset with one rule changed, over stored posts."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--rule-file", type=Path, help="A JSON rule record (new rule or an edit of one).")
        which.add_argument("--rule-id", help="An existing rule, run in --mode (default: active).")
        parser.add_argument("--mode", choices=RuleMode.values, help="Mode of the changed rule.")
        parser.add_argument("--since", type=_date, help="Only post versions received on or after this date.")
        parser.add_argument("--until", type=_date, help="Only post versions received on or before this date.")
        parser.add_argument("--source", help="Only posts from this source slug.")
        parser.add_argument("--samples", type=int, default=5, help="Sample posts to show per group.")
        parser.add_argument("--json", action="store_true", help="Print the whole report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        record = None
        if options["rule_file"]:
            try:
                record = json.loads(options["rule_file"].read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as error:
                raise CommandError(f"Cannot read {options['rule_file']}: {error}") from None
        bar = ProgressBar(sys.stderr)
        try:
            change = change_resolve(record=record, rule_id=options["rule_id"], mode=options["mode"])
            result = backtest_compute(
                change=change,
                filters=BacktestFilters(since=options["since"], until=options["until"], source=options["source"]),
                progress=bar,
                sample_limit=options["samples"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
            return
        self._print_report(result, options["samples"])

    def _print_report(self, r: dict[str, Any], samples: int) -> None:
        out = self.stdout.write
        out(f"rule {r['rule_id']} vs ruleset v{r['baseline_version']}" + (" (contribution: compared without the rule)" if r["contribution"] else ""))
        out(f"posts scanned {r['scanned']}, analysed {r['analysed']}, {r['seconds']} s, {r['posts_per_second'] or '-'} posts/s")
        if r.get("strategy_description"):  # reports stored before descriptions existed have none
            out(f"strategy {r['strategy']}: {r['strategy_description']}")
        out(f"newly flagged      {r['newly_flagged']}")
        out(f"no longer flagged  {r['no_longer_flagged']}")
        changes = ", ".join(f"{k}: {v}" for k, v in r["severity_changes"].items()) or "none"
        out(f"severity changes   {changes}")
        out(f"rule hits          {r['rule_hits_before']} -> {r['rule_hits_after']}")
        precision = r["precision"]
        if precision.get("available"):
            hits = precision["rule_hits"]
            out(f"est. precision     {hits['precision']} ({hits['confirmed']} confirmed, {hits['dismissed']} dismissed, {hits['undecided']} undecided)")
        else:
            out("est. precision     n/a (no moderator decisions)")
        for bucket, items in r["samples"].items():
            out(f"\n{bucket}:")
            for item in items[:samples]:
                out(f"  post version {item['post_version_id']}: {item['before']['severity']} -> {item['after']['severity']}")
                out(f"    {self._marked(item)}")

    @staticmethod
    def _marked(item: dict[str, Any]) -> str:
        """The excerpt with the changed rule's spans in [[double brackets]], on one line."""
        text, parts, cursor = item["excerpt"], [], 0
        for start, end in item["spans"]:
            if start < cursor:
                continue
            parts += [text[cursor:start], "[[", text[start:end], "]]"]
            cursor = end
        parts.append(text[cursor:])
        return ("…" if item["truncated_start"] else "") + " ".join("".join(parts).split()) + ("…" if item["truncated_end"] else "")
