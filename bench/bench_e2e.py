"""End to end: webhook -> PostgreSQL -> Redis -> Celery worker (concurrency 2) -> finding -> queue item.

Offers signed risky `post_created` deliveries at --rate posts/s for --seconds (open loop, 16
connections, separate process), then waits for the pipeline to drain and measures, per post,
the time from the delivery's send to its QueueItem.created_at (finding created_at when a post
has no queue item). Every post is counted at the end: stored, screened, queued, lost.
The baseline of the same run is the bare intake endpoint's latency at the same offered rate
(the part of the delay that is only HTTP + one INSERT).

    python bench/bench_e2e.py [--rate 300] [--seconds 60] [--smoke]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    SLUG, discourse_body, log, percentile, processes, run_load, signed_request, start_intake_stack,
    start_worker, throwaway_database, verdict,
)

TARGET_RATE = 300.0
TARGET_P95_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=300.0, help="offered posts per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--text-size", type=int, default=600)
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="give up waiting for the queue after this")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes for CI (no timing meaning)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rate, args.seconds, args.drain_timeout = 20.0, 2.0, 90.0

    total = int(args.rate * args.seconds)
    warmup_ids = list(range(1, 21))
    post_ids = list(range(1000, 1000 + total))
    with throwaway_database() as database, processes() as group:
        env, port = start_intake_stack(database, group)
        start_worker(group, env, concurrency=args.concurrency)
        path = f"/webhooks/discourse/{SLUG}/"

        def screened() -> int:
            # Findings are written in the same transaction as the queue item; every post gets a finding.
            return int(database.scalar("SELECT count(DISTINCT post_version_id) FROM screening_finding"))

        # Warm up gunicorn and the worker; wait until the warm-up posts are queued.
        run_load(port, [signed_request(port, path, discourse_body(i, text_size=args.text_size)) for i in warmup_ids])
        deadline = time.monotonic() + 120
        while screened() < len(warmup_ids) and time.monotonic() < deadline:
            time.sleep(0.5)
        if screened() < len(warmup_ids):
            log(f"warm-up: only {screened()}/{len(warmup_ids)} screened after 120 s (worker log: test-artifacts/bench/worker.log)")
        warm = int(database.scalar("SELECT count(*) FROM moderation_queueitem"))

        # Baseline at the same offered rate: bare HTTP + HMAC + one INSERT (no worker work yet).
        bare_n = max(20, int(min(total, args.rate * 10)))
        bare = run_load(port, [signed_request(port, f"/bench/bare/{SLUG}/", discourse_body(900_000 + i)) for i in range(bare_n)],
                        connections=args.connections, rate=args.rate, duration=10.0 + 5)

        requests = [signed_request(port, path, discourse_body(i, text_size=args.text_size)) for i in post_ids]
        # Sending stops at --seconds (+5 s grace): what the intake could not absorb is reported, not queued forever.
        load = run_load(port, requests, connections=args.connections, rate=args.rate, duration=args.seconds + 5)
        sent_at = {post_ids[i]: r[0] for i, r in enumerate(load.results) if 200 <= r[2] < 300}
        log(f"sent {load.count} in {load.elapsed:.1f} s ({load.rate:.0f}/s), statuses {load.statuses}")

        # Drain: wait until every accepted post is screened, or no progress for 30 s.
        expected = len(warmup_ids) + len(sent_at)
        deadline, last, last_change = time.monotonic() + args.drain_timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            now_count = screened()
            if now_count >= expected:
                break
            if now_count != last:
                last, last_change = now_count, time.monotonic()
            elif time.monotonic() - last_change > 30:
                break
            time.sleep(0.5)

        rows = database.execute(
            "SELECT p.external_id, extract(epoch FROM q.created_at), extract(epoch FROM f.created_at) "
            "FROM intake_post p JOIN intake_postversion v ON v.post_id = p.id "
            "LEFT JOIN screening_finding f ON f.post_version_id = v.id "
            "LEFT JOIN moderation_queueitem q ON q.post_id = p.id"
        )
        done_at: dict[int, float] = {}
        findings_per_post: dict[int, int] = {}
        for external_id, queued_epoch, finding_epoch in rows:
            post_id = int(external_id)
            findings_per_post[post_id] = findings_per_post.get(post_id, 0) + (finding_epoch is not None)
            if queued_epoch is not None or finding_epoch is not None:
                done_at[post_id] = float(queued_epoch if queued_epoch is not None else finding_epoch)
        queue_items = int(database.scalar("SELECT count(*) FROM moderation_queueitem"))

    measured = [pid for pid in post_ids if pid in sent_at]
    stored = [pid for pid in measured if pid in findings_per_post]
    finished = [pid for pid in measured if pid in done_at]
    latencies = [done_at[pid] - sent_at[pid] for pid in finished]
    lost = len(measured) - len(stored)
    unscreened = len(stored) - len(finished)
    duplicates = sum(1 for pid in measured if findings_per_post.get(pid, 0) > 1)
    if finished:
        span = max(done_at[pid] for pid in finished) - min(sent_at[pid] for pid in finished)
        processed_rate = len(finished) / span if span > 0 else 0.0
    else:
        processed_rate = 0.0
    p95 = percentile(latencies, 95)
    print(f"e2e.throughput: offered {args.rate:.0f} posts/s for {args.seconds:.0f} s, sent {load.rate:.1f}/s, "
          f"processed {processed_rate:.1f} posts/s delivery->queue (target {TARGET_RATE:.0f}/s: "
          f"{verdict(processed_rate >= TARGET_RATE * 0.98)}); gunicorn 2 workers, Celery concurrency {args.concurrency}")
    print(f"e2e.latency: delivery->queue item p50 {percentile(latencies, 50) * 1000:.0f} ms p95 {p95 * 1000:.0f} ms "
          f"(target p95 <= {TARGET_P95_S:.0f} s: {verdict(p95 <= TARGET_P95_S)}); baseline bare intake at the same rate "
          f"p50 {bare.latency_ms(50):.0f} ms p95 {bare.latency_ms(95):.0f} ms")
    print(f"e2e.integrity: offered {total}, sent {load.count}, 2xx {len(measured)}, stored {len(stored)}, screened {len(finished)}, "
          f"queue items {queue_items - warm}, lost {lost}, unscreened {unscreened}, duplicate findings {duplicates}")
    # A post that never gets screened is as lost to the moderators as one never stored.
    return 0 if lost == 0 and unscreened == 0 and duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
