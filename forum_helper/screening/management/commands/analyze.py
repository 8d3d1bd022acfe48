"""Analyse posts from a JSON Lines file with the active ruleset.

    manage.py analyze --input posts.jsonl [--output findings.jsonl]   (stdin/stdout when omitted)

One output line per input line, in order; a bad line gets {"id", "error"} and the run goes
on; the exit code is 1 when any line failed.
"""
import json
import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum_helper.analysis import analyze
from forum_helper.analysis.batch import BatchRecordError, analysis_to_record, record_to_inputs
from forum_helper.core.progress import ProgressBar
from forum_helper.library.services import references_for_analysis
from forum_helper.rules.selectors import ruleset_active


def analyze_line(line: str, ruleset: Any) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return {"id": None, "error": f"not valid JSON: {error.msg} at column {error.colno}"}
    record_id = record.get("id") if isinstance(record, dict) else None
    try:
        post, context = record_to_inputs(record)
    except BatchRecordError as error:
        return {"id": record_id, "error": str(error)}
    analysis = analyze(post, context, ruleset)
    output = analysis_to_record(record_id, analysis)
    output["references"] = references_for_analysis(analysis=analysis)
    return output


class Command(BaseCommand):
    help = "Analyse a JSON Lines file of posts with the active ruleset (see `analyze --help`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", help="JSON Lines file; stdin when omitted")
        parser.add_argument("--output", help="JSON Lines file; stdout when omitted")

    def handle(self, *args: Any, input: str | None = None, output: str | None = None, **options: Any) -> None:
        source = self._open(input, "r", sys.stdin)
        sink = self._open(output, "w", self.stdout._out)
        lines = source.read().splitlines()
        ruleset = ruleset_active().compiled
        progress = ProgressBar(sys.stderr)
        failed = 0
        try:
            for done, line in enumerate(lines, start=1):
                result = analyze_line(line, ruleset)
                failed += "error" in result
                sink.write(json.dumps(result, ensure_ascii=False) + "\n")
                progress(done, len(lines))
        finally:
            progress.close()
            if output:
                sink.close()
        if failed:
            raise CommandError(f"{failed} of {len(lines)} lines failed (see their error objects)", returncode=1)

    @staticmethod
    def _open(path: str | None, mode: str, default: TextIO) -> TextIO:
        if not path:
            return default
        try:
            return open(path, mode, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot open {path}: {error.strerror}") from error
