"""Faults with every part real: duplicate deliveries, a worker killed mid-task, and database
connections dropped during intake. Each test bounds its waits and its processes are stopped
by the `services` fixture."""
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.integration.conftest import (
    Services,
    discourse_post_body,
    post_discourse,
    post_discourse_answer,
    start_named_worker,
    start_web,
    start_worker,
    wait_until,
)

pytestmark = pytest.mark.services

SECRET = "fault-test-secret-123"
SLUG = "fault-forum"
RISKY_TEXT = "I bought a 1.5mm dermaroller and plan to roll my face every 3 days, then put tretinoin on right after."
VISIBILITY_TIMEOUT_SECONDS = 3


def add_source(services: Services) -> None:
    services.manage("add_forum_source", "--kind", "discourse", "--slug", SLUG, "--secret", SECRET)


def count(services: Services, table: str) -> int:
    return int(services.scalar(f"SELECT count(*) FROM {table}"))


def counts(services: Services) -> dict[str, int]:
    return {
        "posts": count(services, "intake_post"),
        "versions": count(services, "intake_postversion"),
        "findings": count(services, "screening_finding"),
        "queue_items": count(services, "moderation_queueitem"),
    }


def test_one_delivery_ten_times_and_retries_with_new_event_ids_store_and_screen_one_post(services: Services) -> None:
    add_source(services)
    start_worker(services)
    port = start_web(services)
    body = discourse_post_body(7, RISKY_TEXT)

    redelivered = [post_discourse_answer(port, SLUG, SECRET, body, event_id="4242")[0] for _ in range(10)]
    retried = [post_discourse(port, SLUG, SECRET, body) for _ in range(4)]  # each with a new event id
    with ThreadPoolExecutor(max_workers=6) as pool:  # and racing copies
        racing = list(pool.map(lambda _: post_discourse(port, SLUG, SECRET, body), range(6)))

    assert redelivered == [202] * 10
    assert retried == [202] * 4
    assert racing == [202] * 6
    assert wait_until(lambda: count(services, "moderation_queueitem") == 1, timeout=60)
    assert wait_until(lambda: not services.query("SELECT 1 FROM intake_delivery WHERE outcome = 'queued'"), timeout=60)
    time.sleep(2)  # anything wrongly enqueued twice would land now
    assert counts(services) == {"posts": 1, "versions": 1, "findings": 1, "queue_items": 1}
    outcomes = dict(services.query("SELECT outcome, count(*) FROM intake_delivery GROUP BY outcome"))
    assert outcomes == {"accepted": 1, "duplicate": 19}


def _blocked_finding_inserts(services: Services) -> list[int]:
    return [row[0] for row in services.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND query ILIKE 'INSERT INTO \"screening_finding\"%%'"
    )]


def test_a_worker_killed_mid_screening_is_redelivered_and_the_post_screened_once(services: Services) -> None:
    services.env["CELERY_VISIBILITY_TIMEOUT"] = str(VISIBILITY_TIMEOUT_SECONDS)
    add_source(services)
    port = start_web(services)
    assert post_discourse(port, SLUG, SECRET, discourse_post_body(11, RISKY_TEXT)) == 202  # the drain task waits in Redis

    # Findings are inserted inside the screening transaction; a SHARE lock on the table (what
    # a concurrent backfill or index build holds) makes that INSERT wait, i.e. the worker is
    # stuck mid-task with its transaction open. (A row lock on the post version would only
    # bite at COMMIT: Django's foreign keys are checked deferred.)
    locker = psycopg.connect(services.database_url.replace("postgres://", "postgresql://"))
    try:
        locker.execute("LOCK TABLE screening_finding IN SHARE MODE")
        first = start_named_worker(services, "fault-worker-killed")
        assert wait_until(lambda: len(_blocked_finding_inserts(services)) == 1, timeout=60), "the worker never reached the INSERT"
        (orphan_pid,) = _blocked_finding_inserts(services)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        locker.rollback()
        locker.close()

    # The killed worker's backend finds its client gone and rolls back: nothing was stored.
    assert wait_until(lambda: not services.query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", orphan_pid), timeout=30)
    assert count(services, "screening_finding") == 0

    # Kombu restores unacknowledged messages older than the visibility timeout when a worker
    # starts, then only every ~100 s (unacked_restore_interval x throttle): start the
    # replacement once the killed delivery is past the timeout, as a restarted worker would be.
    time.sleep(VISIBILITY_TIMEOUT_SECONDS + 1)
    start_named_worker(services, "fault-worker-second")
    assert wait_until(lambda: count(services, "screening_finding") == 1, timeout=90), "the task was not redelivered"
    time.sleep(VISIBILITY_TIMEOUT_SECONDS * 4)  # a second redelivery, if any, would screen again now
    assert counts(services) == {"posts": 1, "versions": 1, "findings": 1, "queue_items": 1}


def test_dropped_database_connections_never_answer_2xx_for_a_post_that_was_not_stored(services: Services) -> None:
    add_source(services)
    port = start_web(services)
    stop = threading.Event()
    terminated = 0

    def terminate_app_connections() -> None:
        nonlocal terminated
        rng = random.Random(6)
        with psycopg.connect(services.database_url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
            while not stop.is_set():
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ).fetchall()
                terminated += sum(1 for (killed,) in rows if killed)
                time.sleep(rng.uniform(0.0, 0.03))

    post_ids = list(range(100, 260))
    killer = threading.Thread(target=terminate_app_connections, daemon=True)
    killer.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = dict(zip(post_ids, pool.map(
                lambda pid: post_discourse_answer(port, SLUG, SECRET, discourse_post_body(pid, f"{RISKY_TEXT} ({pid})"), timeout=20)[0],
                post_ids,
            )))
    finally:
        stop.set()
        killer.join(timeout=10)

    # A 2xx means the delivery was stored; the drain turns every stored delivery into a post.
    services.manage("intake_drain")
    stored = {int(row[0]) for row in services.query("SELECT external_id FROM intake_post")}
    answered_2xx = {pid for pid, status in statuses.items() if 200 <= status < 300}
    failed = {pid for pid, status in statuses.items() if status >= 500}
    summary = f"{terminated} backends terminated; statuses {sorted(set(statuses.values()))}, 2xx {len(answered_2xx)}, 5xx {len(failed)}"
    assert terminated > 0 and failed, f"the fault was not injected: {summary}"
    assert set(statuses.values()) <= {202, 500, 502, 503}, summary
    assert answered_2xx - stored == set(), f"2xx for posts that were not stored: {sorted(answered_2xx - stored)}; {summary}"
    assert failed & stored == set(), f"5xx for posts that were stored: {sorted(failed & stored)}; {summary}"

    # The sender retries every non-2xx (Discourse does, with new event ids): everything lands once.
    retried = [post_discourse(port, SLUG, SECRET, discourse_post_body(pid, f"{RISKY_TEXT} ({pid})"))
               for pid in post_ids if pid not in answered_2xx]
    assert retried == [202] * len(retried)
    services.manage("intake_drain")
    assert count(services, "intake_post") == len(post_ids)
    assert count(services, "intake_postversion") == len(post_ids)
