"""`make demo`: demo users, a demo source, the sample thread imported and screened.

Idempotent: a second run changes nothing but the two passwords (each run prints fresh ones,
so nobody has to remember the last). demo-admin is a superuser (Django admin works without
listing permissions) and in the admins group (the app's own role checks).
"""
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.roles import ADMINS, MODERATORS
from forum_helper.intake.importers.services import thread_import
from forum_helper.intake.models import ForumSource, PostVersion
from forum_helper.screening.services import screen_pending

DEMO_SOURCE = "demo-forum"
DEMO_URL = "http://127.0.0.1:8000/"


def demo_thread_path() -> Path:
    """The shared seed next to the project when present, else the copy in fixtures/."""
    shared = Path(settings.BASE_DIR).parent / "shared" / "seeds" / "sample-thread.txt"
    return shared if shared.is_file() else Path(settings.BASE_DIR) / "fixtures" / "threads" / "sample-thread.txt"


class Command(BaseCommand):
    help = "Create the demo users and source, import and screen the sample thread (safe to run again)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default=DEMO_URL, help=f"the address `make demo` serves on (default {DEMO_URL})")

    def handle(self, *args, **options) -> None:
        moderator_password = _demo_user_upsert(username="demo-moderator", group=MODERATORS, superuser=False)
        admin_password = _demo_user_upsert(username="demo-admin", group=ADMINS, superuser=True)
        _demo_source_get_or_create()

        path = demo_thread_path()
        try:
            result = thread_import(source_slug=DEMO_SOURCE, path=path)
        except ApplicationError as error:
            raise CommandError(f"importing the sample thread failed: {error.message}") from error
        self.stdout.write(
            f"imported {path}: {len(result.posts)} posts ({result.created_posts} new, {result.unchanged_posts} unchanged)"
        )

        # Screening normally runs on commit (in-process without a broker); this catches the rest here.
        screen_pending(enqueue=False)
        latest = PostVersion.objects.filter(post__source__slug=DEMO_SOURCE, version=F("post__current_version"))
        screened = latest.filter(findings__isnull=False).distinct().count()
        flagged = latest.filter(findings__risky=True).distinct().count()
        self.stdout.write(f"screened {screened} demo posts: {flagged} flagged for moderators")

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"demo moderator: demo-moderator / {moderator_password}"))
        self.stdout.write(self.style.SUCCESS(f"demo admin:     demo-admin / {admin_password}"))
        self.stdout.write(f"open {options['url']}")


def _demo_user_upsert(*, username: str, group: str, superuser: bool) -> str:
    """Create or reset a demo user in its role group; returns the new password."""
    password = secrets.token_urlsafe(12)
    user_model = get_user_model()
    with transaction.atomic():
        role_group, _ = Group.objects.get_or_create(name=group)
        user, _ = user_model.objects.get_or_create(username=username)
        user.is_active = True
        user.is_staff = superuser
        user.is_superuser = superuser
        user.set_password(password)
        user.save()
        user.groups.add(role_group)
    return password


def _demo_source_get_or_create() -> ForumSource:
    source = ForumSource.objects.filter(slug=DEMO_SOURCE).first()
    if source is None:
        source = ForumSource(slug=DEMO_SOURCE, name="Demo forum (sample thread)", kind=ForumSource.Kind.IMPORT)
        source.full_clean()
        source.save()
    return source
