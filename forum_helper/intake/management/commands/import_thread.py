from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake.importers.services import FORMATS, thread_import


class Command(BaseCommand):
    help = (
        "Import a thread file (an SMF-style printed topic, or JSON) into a source. All or nothing; "
        "re-importing an unchanged file changes nothing. An unknown source is created as import-only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", required=True, help="source slug (created as import-only when unknown)")
        parser.add_argument("--format", choices=FORMATS, help="default: by extension (.json, .txt), else by content")

    def handle(self, *args, path: Path, source: str, format: str | None = None, **options) -> None:
        try:
            result = thread_import(source_slug=source, path=path, file_format=format)
        except ApplicationError as error:
            raise CommandError(error.message) from error

        if result.source_created:
            self.stdout.write(f"created import-only source {result.source_slug!r}")
        self.stdout.write(f"thread {result.thread_external_id} ({result.format}): {result.thread_title}")
        for post in result.posts:
            position = f"#{post.position}" if post.position is not None else "#?"
            self.stdout.write(
                f"  {position:>4} {post.external_id}  {post.created_at:%Y-%m-%d %H:%M:%S}Z  "
                f"{post.author_role:<6} {post.author_name}  -> {post.outcome} (v{post.version})"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.posts)} posts: {result.created_posts} created, {result.new_versions} new versions, "
                f"{result.unchanged_posts} unchanged"
            )
        )
        if changed := result.created_posts + result.new_versions:
            self.stdout.write(f"{changed} new texts sent to screening (in this process when no broker is configured)")
