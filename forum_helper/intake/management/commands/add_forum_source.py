from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake.models import ForumSource
from forum_helper.intake.services import forum_source_upsert


class Command(BaseCommand):
    help = (
        "Create or update a forum source. --secret replaces the source's secrets (repeat it to keep "
        "several during rotation); options not given are left unchanged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=ForumSource.Kind.values)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--secret", action="append", dest="secrets", metavar="SECRET")
        parser.add_argument("--instance", dest="instance_url", metavar="URL", help="Discourse base URL, e.g. https://forum.example")
        parser.add_argument("--name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source, created = forum_source_upsert(
                slug=options["slug"],
                kind=options["kind"],
                secrets=options["secrets"],
                instance_url=options["instance_url"],
                name=options["name"],
            )
        except ApplicationError as error:
            details = "".join(f"\n  {field}: {' '.join(messages)}" for field, messages in error.extra.get("fields", {}).items())
            raise CommandError(error.message + details) from error
        self.stdout.write(
            f"{'Created' if created else 'Updated'} {source.get_kind_display()} source {source.slug!r}; "
            f"secrets: {', '.join(source.masked_secrets()) or 'none'}"
        )
        if source.kind != ForumSource.Kind.IMPORT:
            self.stdout.write(f"Webhook URL path: /webhooks/{source.kind}/{source.slug}/")
