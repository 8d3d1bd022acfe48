from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum_helper.core.exceptions import ApplicationError
from forum_helper.library.services import document_import


class Command(BaseCommand):
    help = "Import (or re-import, by URL) a plain-text reference article into the library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="UTF-8 text file of the article")
        parser.add_argument("--title", required=True)
        parser.add_argument("--url", required=True, help="source URL; re-importing the same URL updates the document")
        parser.add_argument("--publisher", default="")

    def handle(self, *args, **options) -> None:
        try:
            document = document_import(
                path=options["path"], title=options["title"], url=options["url"], publisher=options["publisher"]
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        dois = ", ".join(document.dois) or "none"
        self.stdout.write(
            self.style.SUCCESS(f"Imported document {document.pk} “{document.title}”: {document.passages.count()} passages, DOIs: {dois}")
        )
