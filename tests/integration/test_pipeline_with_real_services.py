"""Webhook -> PostgreSQL -> Redis -> Celery worker -> finding, with every part real."""
import pytest

from tests.integration.conftest import (
    Services,
    RedisServer,
    discourse_post_body,
    post_discourse,
    start_web,
    start_worker,
    wait_until,
)

pytestmark = pytest.mark.services

SECRET = "integration-secret-123"
RISKY_TEXT = "I bought a 1.5mm dermaroller and plan to roll my face every 3 days, then put tretinoin on right after."


def add_source(services: Services) -> None:
    services.manage("add_forum_source", "--kind", "discourse", "--slug", "it-forum", "--secret", SECRET)


def findings_count(services: Services) -> int:
    return int(services.scalar("SELECT count(*) FROM screening_finding"))


def test_a_signed_delivery_is_screened_by_a_real_worker(services: Services) -> None:
    add_source(services)
    start_worker(services)
    port = start_web(services)

    status = post_discourse(port, "it-forum", SECRET, discourse_post_body(1, RISKY_TEXT))

    assert status == 202
    assert wait_until(lambda: findings_count(services) == 1, timeout=60)
    risky, categories = services.query(
        "SELECT f.risky, f.categories FROM screening_finding f JOIN intake_postversion v ON v.id = f.post_version_id"
    )[0]
    assert risky is True
    assert "home_needling" in categories


def test_a_burst_of_concurrent_deliveries_is_drained_by_the_worker_alone(services: Services) -> None:
    """One drain is scheduled at a time (a Redis flag): no delivery may miss its wake-up."""
    from concurrent.futures import ThreadPoolExecutor

    add_source(services)
    start_worker(services)
    port = start_web(services)

    def send(n: int) -> int:
        return post_discourse(port, "it-forum", SECRET, discourse_post_body(n, f"{RISKY_TEXT} ({n})"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(1, 61)))

    assert statuses == [202] * 60
    # No sweep runs here (no beat, no command): the request-scheduled drains must take all 60.
    assert wait_until(lambda: findings_count(services) == 60, timeout=120), f"only {findings_count(services)} of 60 screened"
    assert services.scalar("SELECT count(*) FROM intake_delivery WHERE outcome = 'queued'") == 0


def test_deliveries_during_a_redis_outage_are_accepted_and_screened_after_recovery(
    services: Services, redis_server: RedisServer
) -> None:
    add_source(services)
    start_worker(services)
    port = start_web(services)

    before = [post_discourse(port, "it-forum", SECRET, discourse_post_body(n, f"{RISKY_TEXT} ({n})")) for n in range(1, 4)]
    redis_server.stop()
    during = [post_discourse(port, "it-forum", SECRET, discourse_post_body(n, f"{RISKY_TEXT} ({n})")) for n in range(4, 10)]
    assert before == [202] * 3
    assert during == [202] * 6, "the intake must accept deliveries while the broker is down"
    assert services.scalar("SELECT count(*) FROM intake_delivery WHERE outcome IN ('queued', 'accepted')") == 9

    redis_server.start()
    # What the beat sweeps do every few seconds: drain the stored deliveries, screen what is pending.
    services.manage("intake_drain")
    services.manage("screen_pending")

    assert wait_until(lambda: findings_count(services) == 9, timeout=90), f"only {findings_count(services)} of 9 screened"
    assert services.scalar("SELECT count(DISTINCT post_version_id) FROM screening_finding") == 9
