"""Fill a (throwaway) database with N open queue items and print a moderator's session cookie.

Run by bench_queue.py with the bench database in DATABASE_URL; bulk-creates posts, versions,
findings and queue items (realistic mix of severities, categories, sources and dates).
"""
import argparse
import json
import os
import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum_helper.config.settings.bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from forum_helper.intake.models import ForumSource, Post, PostVersion, Thread  # noqa: E402
from forum_helper.moderation import selectors  # noqa: E402
from forum_helper.moderation.models import QueueItem  # noqa: E402
from forum_helper.screening.models import Finding  # noqa: E402

BATCH = 5000
SEVERITY_BASE = {"high": 1000, "medium": 500, "low": 100}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(6)
    now = timezone.now()
    sources = [ForumSource.objects.create(slug=f"seed-{n}", kind=ForumSource.Kind.IMPORT) for n in range(3)]
    threads = Thread.objects.bulk_create(
        [Thread(source=sources[n % 3], external_id=f"t{n}", title=f"Thread {n} about needling") for n in range(max(1, args.items // 20))]
    )
    for start in range(0, args.items, BATCH):
        n_batch = range(start, min(args.items, start + BATCH))
        with transaction.atomic():
            posts = Post.objects.bulk_create([
                Post(source=(t := threads[n % len(threads)]).source, thread=t, external_id=f"p{n}", author_name=f"member{n % 4000}",
                     position=n // len(threads) + 1, current_version=1, created_at=now - timedelta(minutes=n))
                for n in n_batch
            ])
            versions = PostVersion.objects.bulk_create([
                PostVersion(post=post, version=1, raw_text=f"Post {post.external_id}: I will dermaroll at home with 1.5mm and tretinoin.",
                            text_sha256="0" * 64)
                for post in posts
            ])
            findings, items = [], []
            for version in versions:
                severity = rng.choices(["high", "medium", "low"], [2, 5, 3])[0]
                categories = sorted(rng.sample(selectors.CATEGORIES, rng.randint(1, 3)))
                findings.append(Finding(post_version=version, ruleset_version=1, risky=True, severity=severity, stance="plan",
                                        categories=categories, evidence=[], explanation="seeded"))
            findings = Finding.objects.bulk_create(findings)
            for version, finding in zip(versions, findings):
                staff = rng.random() < 0.05
                items.append(QueueItem(post=version.post, finding=finding, lane=QueueItem.Lane.RISK, status=QueueItem.Status.OPEN,
                                       severity=finding.severity, is_staff_author=staff, categories=finding.categories,
                                       category_keys="," + ",".join(finding.categories) + ",",
                                       priority=SEVERITY_BASE[finding.severity] + 50 * staff + 5 * len(finding.categories)))
            QueueItem.objects.bulk_create(items)
    with connection.cursor() as cursor:
        # Spread creation dates over the past (bulk_create stamps them all "now").
        cursor.execute("UPDATE moderation_queueitem SET created_at = now() - (id % 20000) * interval '1 minute'")
        cursor.execute("ANALYZE")
    user = User.objects.create_user("bench-moderator", password="unused-bench-password-123")
    user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    client = Client()
    client.force_login(user)
    print(json.dumps({"sessionid": client.cookies["sessionid"].value, "items": QueueItem.objects.count()}))


if __name__ == "__main__":
    main()
