"""Score the active ruleset on a labelled corpus: precision/recall/F1, per category, stance, severity."""
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum_helper.analysis.evaluation import evaluate, format_report
from forum_helper.rules.selectors import ruleset_active

DEFAULT_CORPUS = Path(settings.BASE_DIR) / "fixtures" / "analysis" / "corpus"


def corpus_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.jsonl"))
    if path.is_file():
        return [path]
    raise CommandError(f"no corpus at {path}")


def read_corpus(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise CommandError(f"{path}:{number}: not valid JSON ({error.msg})") from error
    return records


class Command(BaseCommand):
    help = "Print precision, recall and F1 of the active ruleset on a labelled corpus (each file separately)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="a .jsonl file or a folder of them")

    def handle(self, *args: Any, corpus: str, **options: Any) -> None:
        ruleset = ruleset_active().compiled
        for path in corpus_files(Path(corpus)):
            report = evaluate(read_corpus(path), ruleset)
            self.stdout.write(f"== {path.name}")
            self.stdout.write(format_report(report))
