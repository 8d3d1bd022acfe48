from django.core.management.base import BaseCommand

from forum_helper.intake.drain import intake_drain
from forum_helper.intake.models import Delivery


class Command(BaseCommand):
    help = "Process queued webhook deliveries in this process (workers do this on their own)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--retry-failed", action="store_true", help="process deliveries that failed before, instead")

    def handle(self, *args, retry_failed: bool = False, **options) -> None:
        outcome = Delivery.Outcome.FAILED if retry_failed else Delivery.Outcome.QUEUED
        processed = intake_drain(outcome=outcome)
        failed = Delivery.objects.filter(outcome=Delivery.Outcome.FAILED).count()
        self.stdout.write(f"{processed} deliveries processed; {failed} failed (see the delivery log in the admin)")
