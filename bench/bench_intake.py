"""Intake under load: the Discourse webhook endpoint vs a bare DRF endpoint, same run.

gunicorn (2 sync workers) on a throwaway PostgreSQL database with its own redis-server (so
each request really checks the drain-scheduled flag; no worker runs, deliveries stay queued). A separate load-generator process sends
signed ~2 KB `post_created` bodies over loopback with 16 connections, every one a new post.
The bare endpoint (forum_helper/intake/bench_views.py) verifies the same HMAC and does one
INSERT. Rounds alternate bare/discourse so drift hits both alike. A third server, the floor
(bench/wsgi_floor.py: plain WSGI, the same HMAC and INSERT, no framework, same gunicorn), shows
the latency this machine allows any receiver behind 2 sync workers and 16 connections.

    python bench/bench_intake.py [--requests 3000] [--rounds 2] [--connections 16] [--smoke]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    SECRET, SLUG, LoadResult, discourse_body, log, processes, run_load, signed_request, start_gunicorn,
    start_intake_stack, throwaway_database, verdict,
)

TARGET_RATIO = 0.80
TARGET_P99_MS = 25.0


def merged(parts: list[LoadResult]) -> LoadResult:
    return LoadResult(elapsed=sum(p.elapsed for p in parts), results=[r for p in parts for r in p.results])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--text-size", type=int, default=650, help="raw text bytes (raw + cooked + fields: ~2.2 KB body)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes for CI (no timing meaning)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.requests, args.rounds, args.warmup = 60, 1, 10

    with throwaway_database() as database, processes() as group:
        env, port = start_intake_stack(database, group)
        floor_port = start_gunicorn(group, {**env, "BENCH_FLOOR_SECRET": SECRET}, app="bench.wsgi_floor:application",
                                    log_name="gunicorn-floor.log")
        ports = {"bare": port, "discourse": port, "floor": floor_port}

        next_post = 1

        def bodies(n: int) -> list[bytes]:
            nonlocal next_post
            made = [discourse_body(next_post + i, text_size=args.text_size) for i in range(n)]
            next_post += n
            return made

        paths = {"bare": f"/bench/bare/{SLUG}/", "discourse": f"/webhooks/discourse/{SLUG}/", "floor": "/"}
        for name, path in paths.items():  # warm each: imports, connections, caches
            run_load(ports[name], [signed_request(ports[name], path, b) for b in bodies(args.warmup)],
                     connections=args.connections)
        body_size = len(discourse_body(1, text_size=args.text_size))

        runs: dict[str, list[LoadResult]] = {"bare": [], "discourse": [], "floor": []}
        for round_number in range(args.rounds):
            for name, path in paths.items():
                requests = [signed_request(ports[name], path, b) for b in bodies(args.requests)]
                result = run_load(ports[name], requests, connections=args.connections)
                log(f"round {round_number + 1} {name}: {result.rate:.0f} req/s statuses {result.statuses}")
                runs[name].append(result)

        bare, real, floor = merged(runs["bare"]), merged(runs["discourse"]), merged(runs["floor"])
        # No worker runs here: a 2xx means the delivery is stored with its body, queued for the drain.
        stored = int(database.scalar("SELECT count(*) FROM intake_delivery WHERE outcome = 'queued'"))
        bare_rows = int(database.scalar("SELECT count(*) FROM bench_bare_delivery"))
        published = broker_connections = "n/a"
        try:
            import redis

            broker = redis.Redis.from_url(env["CELERY_BROKER_URL"])
            published = str(broker.llen("celery"))
            # Publishing must reuse each worker's pooled broker connection, not open one per request.
            broker_connections = str(broker.info("stats")["total_connections_received"] - 1)  # minus this one
        except Exception as error:  # reporting only
            log(f"could not count published tasks: {error}")

    ratio = real.rate / bare.rate if bare.rate else 0.0
    real_p99 = real.latency_ms(99)
    print(f"intake.throughput: discourse {real.rate:.1f} req/s vs bare {bare.rate:.1f} req/s = {ratio:.2f} of bare "
          f"(target >= {TARGET_RATIO:.2f}: {verdict(ratio >= TARGET_RATIO)}); {args.connections} connections, "
          f"{real.count} + {bare.count} requests, ~{body_size} B bodies")
    print(f"intake.latency: discourse p50 {real.latency_ms(50):.1f} ms p99 {real_p99:.1f} ms, bare p50 "
          f"{bare.latency_ms(50):.1f} ms p99 {bare.latency_ms(99):.1f} ms "
          f"(target p99 <= {TARGET_P99_MS:.0f} ms: {verdict(real_p99 <= TARGET_P99_MS)})")
    # With 16 connections on 2 sync workers a request mostly waits its turn: p99 follows throughput.
    print(f"intake.floor: plain WSGI + HMAC + INSERT, no framework: {floor.rate:.1f} req/s, p50 {floor.latency_ms(50):.1f} ms "
          f"p99 {floor.latency_ms(99):.1f} ms (the least any receiver behind 2 sync workers answers in here; "
          f"{floor.ok}/{floor.count} 2xx)")
    print(f"intake.integrity: discourse 2xx {real.ok}/{real.count}, deliveries queued {stored} (incl. warm-up), "
          f"drain tasks published {published} (one until a drain starts) over {broker_connections} broker connections; bare 2xx {bare.ok}/{bare.count}, "
          f"rows {bare_rows}")
    return 0 if real.ok == real.count and bare.ok == bare.count and floor.ok == floor.count else 1


if __name__ == "__main__":
    sys.exit(main())
