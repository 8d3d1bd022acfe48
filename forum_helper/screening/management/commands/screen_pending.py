from django.core.management.base import BaseCommand

from forum_helper.screening.services import screen_pending


class Command(BaseCommand):
    help = "Enqueue screening for every latest post version that has none (the sweep beat also runs)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--here", action="store_true", help="screen in this process instead of enqueueing")

    def handle(self, *args, here: bool = False, **options) -> None:
        pending, handled = screen_pending(enqueue=not here)
        verb = "screened" if here else "enqueued"
        self.stdout.write(f"{pending} pending post versions, {handled} {verb}")
        if handled < pending:
            self.stderr.write("the broker is unreachable: the rest stay pending for the next sweep")
